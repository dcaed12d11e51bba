import assert from "node:assert/strict";
import { join } from "node:path";
import { readSupervisorStatus } from "../../core/services/supervisor/status.ts";
import {
  articlePayload,
  injectEnvelope,
  ledgerEvents,
  makeTestHome,
  runSaoe,
  spawnSaoe,
  startCliPipeline,
  subjectOf,
  verifyTestLedger,
  waitFor,
  waitForEvent,
} from "./_harness.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "saoe pipeline runs sanitization end to end and, on SIGTERM, exits 0 with a final checkpoint and a verifying ledger",
  ...processTest,
  async fn() {
    // intake and the viewer get ports the system assigns (capset grants 127.0.0.1:0)
    await using t = await makeTestHome();
    await using cli = await startCliPipeline(t);
    const home = cli.lines.find((l) => l.kind === "home");
    assert.equal(home?.home, t.root);
    const intakeUrl = String(cli.lines.find((l) => l.kind === "intake")?.url);
    const viewerUrl = String(cli.lines.find((l) => l.kind === "viewer")?.url);
    for (const url of [intakeUrl, viewerUrl]) {
      assert.match(url, /^http:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
      // the printed address is the one that serves, and the Host check names it
      const page = await fetch(`${url}/${url === intakeUrl ? "login" : ""}`);
      await page.body?.cancel();
      assert.equal(page.status, 200, url);
    }
    // the status file (written right after each state change) reports the same addresses
    const listens = await waitFor(async () => {
      const agents = (await readSupervisorStatus(t.home))?.agents ?? [];
      const of = (name: string) => agents.find((a) => a.name === name)?.listen;
      return of("intake") !== undefined && of("viewer") !== undefined &&
        [`http://${of("intake")}`, `http://${of("viewer")}`];
    }, { what: "the status file to report both addresses" });
    assert.deepEqual(listens, [intakeUrl, viewerUrl]);
    assert.match(String(cli.lines.find((l) => l.kind === "submit")?.command), /saoe submit/);
    const sanitization = cli.lines.find((l) => l.kind === "agent" && l.name === "sanitization");
    assert.equal(typeof sanitization?.pid, "number");

    const { session_id, envelope_id } = await injectEnvelope(t, {
      sender: "intake",
      receiver: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload(),
    });
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "forwarded" && e.agent === "sanitization" && e.session_id === session_id,
      "sanitization to forward the injected envelope",
    );
    const validated = events.find((e) =>
      e.type === "validated" && e.agent === "sanitization" && e.envelope_id === envelope_id
    );
    assert.ok(validated, "validated event of the injected envelope");
    assert.equal(validated.session_id, session_id);

    const status = await cli.stop("SIGTERM");
    assert.equal(status.code, 0, cli.stderr.join("\n"));
    const stopped = cli.lines.find((l) => l.kind === "stopped");
    assert.ok(stopped?.checkpoint, "the stopped line reports the final checkpoint");

    const all = await ledgerEvents(t.home);
    const last = all.at(-1)!;
    assert.equal(last.type, "checkpoint");
    assert.equal(last.agent, "supervisor");
    assert.equal(last.detail?.reason, "shutdown");
    assert.equal(last.detail?.tree_size, all.length);
    for (const agent of t.config.agents) {
      const exited = all.find((e) => e.type === "agent_exited" && subjectOf(e) === agent);
      assert.equal(exited?.detail?.requested, true, `${agent} was stopped on request`);
    }
    const verification = await verifyTestLedger(t);
    assert.ok(verification.ok, verification.message);
    assert.equal(verification.size, all.length);

    const supervisorStatus = await readSupervisorStatus(t.home);
    assert.equal(supervisorStatus?.state, "stopped");
    assert.deepEqual(supervisorStatus?.agents.map((a) => a.name), t.config.agents);
    assert.ok(supervisorStatus?.agents.every((a) => a.state === "stopped"));
  },
});

Deno.test({
  name:
    "saoe pipeline moves a symlink and a FIFO planted in inboxes aside, audits each, and runs the rest",
  ...processTest,
  async fn() {
    await using t = await makeTestHome();
    const folder = join(t.home.agents, "sanitization", "inbox", "intake");
    await Deno.mkdir(folder, { recursive: true });
    const link = join(folder, "evil.satl");
    await Deno.symlink(join(t.home.keys, "master.key"), link);
    const fifoFolder = join(t.home.agents, "planner", "inbox", "sanitization");
    await Deno.mkdir(fifoFolder, { recursive: true });
    const fifo = join(fifoFolder, "blocker.satl");
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(mk.success, "mkfifo");
    await using pipeline = await startCliPipeline(t);
    // nothing planted stopped the start, and both are out of the agents' folders
    await assert.rejects(Deno.lstat(link), Deno.errors.NotFound);
    await assert.rejects(Deno.lstat(fifo), Deno.errors.NotFound);
    const events = await waitFor(async () => {
      const all = await ledgerEvents(t.home);
      return all.filter((e) => e.type === "stray_moved").length >= 2 && all;
    }, { what: "two stray_moved events" });
    const moved = events.filter((e) => e.type === "stray_moved");
    assert.deepEqual(
      moved.map((e) => [e.detail?.from, e.detail?.kind]).sort(),
      [[fifo, "special"], [link, "symlink"]].sort(),
    );
    for (const e of moved) {
      const info = await Deno.lstat(String(e.detail?.to));
      assert.ok(info.isSymlink || info.isFifo, String(e.detail?.to));
    }
    assert.ok(pipeline.stderr.some((l) => l.includes(`moved symlink ${link} aside`)));
    assert.ok(events.some((e) => e.type === "agent_started" && e.detail?.agent === "sanitization"));
    // the key the link pointed at was never touched
    assert.ok((await Deno.lstat(join(t.home.keys, "master.key"))).isFile);
  },
});

Deno.test({
  name: "saoe pipeline refuses to start without a home and says how to create one",
  ...processTest,
  async fn() {
    const missing = join(await Deno.makeTempDir(), "nothing-here");
    try {
      const { code, stderr } = await runSaoe(["pipeline", "--home", missing]);
      assert.equal(code, 1);
      assert.ok(stderr.includes(missing), stderr);
      assert.match(stderr, /saoe init/);
    } finally {
      await Deno.remove(join(missing, ".."), { recursive: true });
    }
  },
});

Deno.test({
  name: "saoe pipeline --init creates a missing home, runs it, and stops with exit 0",
  ...processTest,
  async fn() {
    const parent = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-init-" }));
    // agents run as their own uids (as root): they must be able to enter the home's parent
    await Deno.chmod(parent, 0o711);
    const root = join(parent, "home");
    try {
      const child = await spawnSaoe(["pipeline", "--init", "--home", root, "--json"]);
      const lines: string[] = [];
      let buffer = "";
      const decoder = new TextDecoder();
      const reader = child.stdout.getReader();
      const stderr = new Response(child.stderr).text();
      try {
        while (!lines.some((l) => l.includes('"kind":"ready"'))) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value);
          lines.push(...buffer.split("\n").slice(0, -1));
          buffer = buffer.slice(buffer.lastIndexOf("\n") + 1);
        }
      } finally {
        child.kill("SIGTERM");
        reader.releaseLock();
        await child.stdout.cancel();
      }
      const status = await child.status;
      assert.equal(status.code, 0, await stderr);
      assert.ok(lines.some((l) => l.includes('"kind":"ready"')), await stderr);
      assert.ok((await Deno.stat(join(root, "config.json"))).isFile);
      assert.match(await stderr, /init: Home ready/);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});
