/**
 * `saoe capset explain` prints exactly what the supervisor's `agentCommand()`
 * derives from the verified capset (computed here independently of the CLI's
 * loading code), and refuses a capset that does not verify.
 */
import { detectSandboxHost } from "../../core/services/supervisor/sandbox_host.ts";
import { agentIdentity } from "../../core/services/supervisor/agent_identity.ts";
import assert from "node:assert/strict";
import { SUPERVISOR_ID } from "../../core/domain/home/layout.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { decryptWith } from "../../core/domain/vault/age.ts";
import { capsetPath, toolManifestPath } from "../../core/domain/vault/layout.ts";
import { verifyCapset } from "../../core/domain/capset/verify.ts";
import { verifyToolManifest } from "../../core/domain/toolgate/manifest.ts";
import { agentCommand } from "../../core/services/supervisor/agent_command.ts";
import { verifyRootChain } from "../../core/domain/trust/chain.ts";
import { loadRootChain } from "../../core/domain/trust/files.ts";
import { MemoryVersionStore } from "../../core/domain/trust/version_store_memory.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { makeHome, REPO, runCli, type TestHome } from "./_fixtures.ts";

async function expectedCommand(t: TestHome, agent: string) {
  const root = await verifyRootChain({
    roots: await loadRootChain(t.home.trust),
    pin: t.config.root_pin,
    clock: systemClock,
    skewMs: t.config.skew_ms,
    versionStore: new MemoryVersionStore(),
  });
  const supervisor = await (await openKeyStore(t.home.keys)).loadAgent(SUPERVISOR_ID);
  const capset = await verifyCapset(
    await decryptWith(supervisor.ageIdentity, await Deno.readFile(capsetPath(t.home.vault, agent))),
    { dispatcher: root.trusted, clock: systemClock, skewMs: t.config.skew_ms },
  );
  const toolManifest = await verifyToolManifest(
    await Deno.readFile(toolManifestPath(t.home.vault)),
    { dispatcher: root.trusted, clock: systemClock, skewMs: t.config.skew_ms },
  );
  const sandboxHost = await detectSandboxHost();
  return agentCommand({
    capset,
    home: t.home,
    repo: await Deno.realPath(REPO),
    toolManifest,
    sandboxHost,
    ...agentIdentity(t.config, capset, sandboxHost),
  });
}

Deno.test("saoe capset explain --json gives every agent's exact supervisor command and grant sources", async () => {
  const t = await makeHome();
  try {
    for (const agent of t.config.agents) {
      const r = await runCli(["capset", "explain", agent, "--home", t.root, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const explained = JSON.parse(r.stdout);
      const expected = await expectedCommand(t, agent);
      assert.equal(explained.agent, agent);
      assert.deepEqual(explained.command, [expected.program, ...expected.programArgs]);
      assert.deepEqual(explained.deno_command, [expected.deno, ...expected.args]);
      assert.deepEqual(explained.grants, expected.grants);
      assert.deepEqual(explained.sandbox.binds, expected.sandbox.binds);
      assert.equal(explained.command.at(-1), `${await Deno.realPath(REPO)}/agents/${agent}.ts`);
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe capset explain shows the command line and which capset line grants each path", async () => {
  const t = await makeHome();
  try {
    const r = await runCli(["capset", "explain", "image_filter", "--home", t.root]);
    assert.equal(r.code, 0, r.stderr);
    const expected = await expectedCommand(t, "image_filter");
    assert.ok(
      r.stdout.includes(`  ${[expected.program, ...expected.programArgs].join(" ")}\n`),
    );
    assert.match(r.stdout, /--allow-write\s+\S+\/media\s+fs\.write\[0\]=media/);
    assert.match(
      r.stdout,
      /--allow-read\s+\S+\/agents\/deployment\/inbox\/image_filter\s+sends\[0\]\.to=deployment/,
    );
    // the second layer: the same grant as a writable bind, the code read-only
    assert.match(r.stdout, /--bind\s+\S+\/agents\/deployment\/inbox\/image_filter\s+sends\[0\]/);
    assert.match(r.stdout, /--ro-bind\s+\S+\/uploads\s+fs\.read\[0\]=uploads/);
    assert.match(r.stdout, /--ro-bind\s+\S+\/core\s+code/);
    assert.match(r.stdout, /network: none/);
    assert.match(r.stdout, /--allow-read\s+\S+image_sanitize\.ts\s+tools\[0\]=image_sanitize/);
    assert.match(r.stdout, /--deny-run\s+\(all\)\s+default-deny/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe capset explain refuses a capset swapped for another agent's, and bad names", async () => {
  const t = await makeHome();
  try {
    // the intake capset (which grants the network) planted as the planner's
    await Deno.copyFile(capsetPath(t.home.vault, "intake"), capsetPath(t.home.vault, "planner"));
    const r = await runCli(["capset", "explain", "planner", "--home", t.root]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /signed for agent "intake"/);
    assert.equal(r.stdout, "");

    for (const args of [[], ["Planner"], ["nobody"], ["planner", "extra"]]) {
      const bad = await runCli(["capset", "explain", ...args, "--home", t.root]);
      assert.equal(bad.code, 2, `${args.join(" ")}: ${bad.stderr}`);
    }
  } finally {
    await t.cleanup();
  }
});
