/**
 * Ctrl-C in the operator's terminal sends SIGINT to the whole foreground
 * process group: the supervisor, its agents and, unless it runs in its own
 * group, the home's local witness. The witness must still be there to cosign
 * the checkpoint the supervisor signs at shutdown, so a clean Ctrl-C stop
 * leaves no unwitnessed record. Emulated on a real `saoe pipeline` run in its
 * own process group, signalled as a group.
 */
import assert from "node:assert/strict";
import { makeTestHome, REPO, runSaoe, saoeTaskArgs } from "../supervisor/_harness.ts";

Deno.test({
  name: "Ctrl-C (SIGINT to the process group) stops the pipeline with every record witnessed",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    const child = new Deno.Command(Deno.execPath(), {
      args: [...await saoeTaskArgs(), "pipeline", "--home", t.root, "--json"],
      cwd: REPO,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true, // its own process group, as a terminal's foreground job is
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes('"ready"')) {
      const r = await reader.read();
      if (r.done) break;
      out += r.value;
    }
    assert.match(out, /"ready"/);
    Deno.kill(-child.pid, "SIGINT");
    const status = await child.status;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    const log = await stderr;
    assert.equal(status.code, 0, log);
    assert.doesNotMatch(log, /witness .* unreachable/);
    const verify = await runSaoe(["audit", "verify", "--home", t.root, "--json"]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(JSON.parse(verify.stdout).unwitnessed, 0, log);
  },
});
