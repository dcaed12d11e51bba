/**
 * The sandbox holds: for each of the seven agents, a hostile script runs with the
 * EXACT command line the supervisor derives for that agent (`agentCommand()` on
 * its verified capset, from a real home made by `initHome`), only the entry
 * module swapped for `core/devtools/attack/hostile_agent.ts`, and every escape attempt must fail with
 * `Deno.errors.NotCapable`: other agents' inboxes and stores, `keys/`,
 * `config.json`, writing `vault/`, `trust/` and the ledger, `/proc/self/environ`,
 * the environment, the network (connect and listen), spawning, FFI, `sys`, and
 * creating symlinks or hard links (which must also leave nothing behind). A
 * control attempt on the agent's own store must succeed, so a run that fails
 * for any other reason cannot pass.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { agentDir, inboxDir, ledgerPath } from "../../core/domain/home/layout.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { buildEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { WORKER_OPTIONS_FLAG } from "../../core/domain/capset/permissions.ts";
import { verifyAsSupervisor } from "../../core/services/supervisor/agent_commands.ts";
import { makeHome, REPO } from "../cli/_fixtures.ts";

const HOSTILE = join(REPO, "core/devtools/attack/hostile_agent.ts");

interface Result {
  name: string;
  outcome: string;
  message?: string;
  created?: boolean;
}

Deno.test({
  name: "every agent's exact derived flags stop each escape attempt with NotCapable",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const t = await makeHome("saoe-sandbox-");
  // a real listener: a connect that the sandbox let through would succeed
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of target) conn.close();
  })().catch(() => {});
  try {
    const { home, config } = t;
    // plant what an escape would be after, so every attempt has a real target
    for (const agent of config.agents) {
      await Deno.mkdir(join(inboxDir(home, agent), "probe"), { recursive: true });
      await Deno.writeTextFile(join(inboxDir(home, agent), "probe", "planted.satl"), "{}");
      for (const sub of ["store", "dead", "quarantine"]) {
        await Deno.mkdir(join(agentDir(home, agent), sub), { recursive: true });
      }
      await Deno.writeTextFile(join(agentDir(home, agent), "store", "secret.json"), "{}");
    }
    const ledger = await openLedger({ path: ledgerPath(home) });
    ledger.append([encodeEvent(buildEvent({ type: "agent_started", agent: "supervisor" }))]);
    ledger.close();

    // the supervisor's own preflight: verified capsets and the exact command of each agent
    const view = await verifyAsSupervisor({ home, config, clock: systemClock, repo: REPO });
    const connectPort = (target.addr as Deno.NetAddr).port;
    // a port no capset grants: Deno refuses the listen before any bind, so nothing
    // else on the machine can make the probe pass or fail
    const listenPort = 1;
    assert.equal(config.agents.length, 7);

    const runs = config.agents.map(async (agent) => {
      const capset = view.capsets.get(agent)!;
      // the intake's own port is its legitimate grant; the probes use other ports
      assert.ok(!capset.net.includes(`127.0.0.1:${connectPort}`));
      assert.ok(!capset.net.includes(`127.0.0.1:${listenPort}`));
      const cmd = view.commands.get(agent)!;
      assert.equal(cmd.args.at(-1), cmd.entry);
      const args = [
        ...cmd.args.slice(0, -1),
        HOSTILE,
        JSON.stringify({
          home: home.root,
          me: agent,
          agents: config.agents,
          connectPort,
          listenPort,
          workerOptions: cmd.args.includes(WORKER_OPTIONS_FLAG),
        }),
      ];
      // spawned the way the supervisor spawns: cleared environment, from the repository
      const out = await new Deno.Command(cmd.deno, {
        args,
        cwd: REPO,
        clearEnv: true,
        env: {},
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${agent}: hostile script failed to run: ${stderr}`);
      const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
      const report = JSON.parse(lines.at(-1)!) as { agent: string; results: Result[] };
      return { agent, results: report.results };
    });

    const breaches: string[] = [];
    for (const { agent, results } of await Promise.all(runs)) {
      const control = results.find((r) => r.name.startsWith("control:"));
      assert.equal(control?.outcome, "succeeded", `${agent}: control failed: ${control?.message}`);
      const attempts = results.filter((r) => r !== control);
      assert.ok(attempts.length >= 40, `${agent}: only ${attempts.length} attempts ran`);
      for (const r of attempts) {
        if (r.outcome !== "NotCapable") {
          breaches.push(`${agent}: ${r.name}: ${r.outcome} ${r.message ?? ""}`);
        }
        if (r.created === true) breaches.push(`${agent}: ${r.name}: created the link`);
      }
      // the names prove which attempts ran for this agent
      for (
        const expected of [
          "read keys/master.key",
          "read config.json",
          "overwrite own capset in vault/",
          "overwrite trust/directory.json",
          "open the ledger audit/ledger.db for writing",
          "read /proc/self/environ",
          "Deno.env.get",
          `connect to 127.0.0.1:${connectPort}`,
          `listen on 127.0.0.1:${listenPort}`,
          "spawn /bin/sh with Deno.Command",
          "Deno.dlopen libc (ffi)",
          "Deno.symlink to keys/master.key inside its own store",
          "Deno.link keys/master.key into its own inbox",
        ]
      ) {
        assert.ok(
          results.some((r) => r.name === expected),
          `${agent}: missing attempt ${expected}`,
        );
      }
    }
    assert.deepEqual(breaches, []);
    // nothing the hostile scripts tried to create exists
    for (const agent of config.agents) {
      await assert.rejects(
        Deno.lstat(join(agentDir(home, agent), "store", "evil-link")),
        Deno.errors.NotFound,
      );
      await assert.rejects(
        Deno.lstat(join(inboxDir(home, agent), `${agent}-link.satl`)),
        Deno.errors.NotFound,
      );
    }
    await assert.rejects(Deno.lstat(join(home.vault, "planted.json")), Deno.errors.NotFound);
  } finally {
    target.close();
    await accepting;
    await t.cleanup();
  }
});
