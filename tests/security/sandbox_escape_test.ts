/**
 * The two sandbox layers, each alone and together (docs/design.md section 12).
 * For each of the seven agents a hostile stand-in
 * (`core/devtools/attack/hostile_agent.ts`) runs three ways, all built from the
 * EXACT command the supervisor derives for that agent from its verified capset
 * (`core/devtools/attack/hostile_command.ts`):
 *
 * - `both`: the supervisor's command (bubblewrap, kernel limits and, as root,
 *   the agent's own uid, with the Deno flags inside);
 * - `deno`: the Deno permission flags alone;
 * - `os`: the OS sandbox alone, around `deno run --allow-all`.
 *
 * Every attempt must fail with both layers; each layer alone must stop every
 * attempt it is meant to stop (the Deno layer with `NotCapable`), and the test
 * prints the matrix so a reader sees which layer stops what. A control write to
 * the agent's own store must succeed in every run.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { agentDir, inboxDir, inboxFromDir, ledgerPath } from "../../core/domain/home/layout.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { buildEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { WORKER_OPTIONS_FLAG } from "../../core/domain/capset/permissions.ts";
import { verifyAsSupervisor } from "../../core/services/supervisor/agent_commands.ts";
import { createAgentFolders } from "../../core/services/supervisor/folders.ts";
import { applyHomeOwnership } from "../../core/services/supervisor/home_ownership.ts";
import { sandboxIdsFor } from "../../core/services/supervisor/sandbox_check.ts";
import {
  hostileCommand,
  type HostileResult,
  runHostile,
  type SandboxLayers,
} from "../../core/devtools/attack/hostile_command.ts";
import { makeHome, REPO } from "../cli/_fixtures.ts";

const HOSTILE = join(REPO, "core/devtools/attack/hostile_agent.ts");
const MIB = 2 ** 20;

type Result = HostileResult;

/**
 * Which layer alone is meant to stop an attempt (by name). `deno: false` marks
 * what Deno's permission checks do not see (a module graph's static import, a
 * link followed by the kernel, memory outside the V8 heap, storage that needs no
 * permission); `os: false` what the OS sandbox leaves to Deno (inside its own
 * namespaces an agent may spawn, call sys APIs or read its own environment).
 */
const MEANT: readonly { match: RegExp; deno: boolean; os: boolean; os_net?: boolean }[] = [
  // the first match counts: the specific attempts come first
  { match: /^import config\.json by a string literal/, deno: false, os: true },
  { match: /through a symlink planted/, deno: false, os: true },
  { match: /^hard-link a file of its own store into a peer's inbox/, deno: false, os: true },
  { match: /^create a FIFO/, deno: true, os: false },
  { match: /^read \/proc of a process outside/, deno: true, os: true },
  { match: /^allocate an ArrayBuffer/, deno: false, os: true },
  { match: /another agent left in (localStorage|caches)/, deno: false, os: true },
  { match: /^(list|read|write)( into)? another/, deno: true, os: true },
  { match: /^read (keys|own key file|the supervisor's key|the operator)/, deno: true, os: true },
  { match: /^list keys\//, deno: true, os: true },
  { match: /^read config\.json/, deno: true, os: true },
  { match: /vault\/|trust\//, deno: true, os: true },
  { match: /ledger/, deno: true, os: true },
  { match: /^read \/proc\/self\/environ|^Deno\.env/, deno: true, os: false },
  // without a net grant the agent has its own empty network namespace
  { match: /^(connect|fetch)/, deno: true, os: true, os_net: false },
  { match: /^listen/, deno: true, os: false },
  { match: /^spawn|ffi|\(sys\)|Worker/, deno: true, os: false },
  { match: /^Deno\.symlink/, deno: true, os: false },
  { match: /^Deno\.link/, deno: true, os: true },
];

function blocked(r: Result): boolean {
  return r.outcome !== "succeeded" && r.created !== true;
}

Deno.test({
  name:
    "each sandbox layer alone stops what it is meant to, both together stop every escape attempt",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const t = await makeHome("saoe-sandbox-");
  // agents with their own uids (as root) must be able to enter the home's parent
  await Deno.chmod(dirname(t.root), 0o711);
  // a real listener: a connect that a sandbox let through would succeed
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of target) conn.close();
  })().catch(() => {});
  try {
    const { home, config } = t;
    const view = await verifyAsSupervisor({ home, config, clock: systemClock, repo: REPO });
    await createAgentFolders(home, view.capsets.values());
    const ledger = await openLedger({ path: ledgerPath(home) });
    ledger.append([encodeEvent(buildEvent({ type: "agent_started", agent: "supervisor" }))]);
    ledger.close();
    // plant what an escape would be after, so every attempt has a real target
    for (const agent of config.agents) {
      await Deno.mkdir(join(inboxDir(home, agent), "probe"), { recursive: true });
      await Deno.writeTextFile(join(inboxDir(home, agent), "probe", "planted.satl"), "{}");
      await Deno.writeTextFile(join(agentDir(home, agent), "store", "secret.json"), "{}");
    }
    const connectPort = (target.addr as Deno.NetAddr).port;
    assert.equal(config.agents.length, 7);
    // one matrix row per kind of attempt, whichever peer it named
    const peerName = new RegExp(
      `\\((${config.agents.join("|")})\\)|of (${config.agents.join("|")})$`,
    );

    const matrix = new Map<string, Map<SandboxLayers, { ran: number; blocked: number }>>();
    const failures: string[] = [];
    // the runs as root (deno alone) come last: files they leave would be root's
    for (const layers of ["both", "os", "deno"] as const) {
      // as the supervisor does before it spawns: every folder owned by its agent
      await applyHomeOwnership(home, [...view.capsets.values()], sandboxIdsFor(config));
      for (const [i, agent] of config.agents.entries()) {
        const capset = view.capsets.get(agent)!;
        const command = view.commands.get(agent)!;
        const store = join(agentDir(home, agent), "store");
        // a link someone with write access to the home planted before a restart
        const plantedLink = join(store, "planted-link");
        await Deno.remove(plantedLink).catch(() => {});
        await Deno.symlink(join(home.keys, "master.key"), plantedLink);
        const peer = capset.sends[0]?.to;
        const peerInbox = peer === undefined ? undefined : inboxFromDir(home, peer, agent);
        const hostile = hostileCommand({
          command,
          host: view.sandboxHost,
          layers,
          repo: REPO,
          script: HOSTILE,
          args: [JSON.stringify({
            home: home.root,
            me: agent,
            agents: config.agents,
            connectPort,
            listenPort: 1,
            workerOptions: command.args.includes(WORKER_OPTIONS_FLAG),
            plantedLink,
            ...(peerInbox !== undefined ? { peerInbox } : {}),
            foreignPid: Deno.pid,
            memoryBytes: (command.sandbox.limits.memory_mib + 512) * MIB,
            channel: i === 0 ? "write" : "read",
          })],
        });
        const report = await runHostile(hostile, REPO);
        if (report.error !== undefined) {
          throw new Error(`${layers}/${agent}: the stand-in did not report (${report.error})`);
        }
        const results = report.results;
        const control = results.find((r) => r.name.startsWith("control:"));
        assert.equal(
          control?.outcome,
          "succeeded",
          `${layers}/${agent}: control: ${control?.message}`,
        );
        for (const r of results.filter((x) => x !== control)) {
          const meant = MEANT.find((m) => m.match.test(r.name));
          const key = r.name.replace(peerName, (m) => m.startsWith("(") ? "(a peer)" : "of a peer");
          const row = matrix.get(key) ?? new Map();
          const cell = row.get(layers) ?? { ran: 0, blocked: 0 };
          cell.ran++;
          if (blocked(r)) cell.blocked++;
          row.set(layers, cell);
          matrix.set(key, row);
          if (meant === undefined) {
            failures.push(`${layers}/${agent}: no expectation for ${r.name}`);
            continue;
          }
          const expected = layers === "both" ||
            (layers === "deno" && meant.deno) ||
            (layers === "os" && meant.os && !(capset.net.length > 0 && meant.os_net === false));
          if (expected && !blocked(r)) {
            failures.push(`${layers}/${agent}: ${r.name}: ${r.outcome} ${r.message ?? ""}`);
          }
          if (layers === "deno" && meant.deno && r.outcome !== "NotCapable") {
            failures.push(`deno/${agent}: ${r.name}: ${r.outcome}, not NotCapable`);
          }
        }
        // what one run made must not decide the next one's outcome
        for (const name of ["evil-link", "link-source.satl", "probe_import.js", "control.txt"]) {
          await Deno.remove(join(store, name)).catch(() => {});
        }
        if (peerInbox !== undefined) {
          for (const name of [`${agent}-hard-link.satl`, `${agent}-fifo.satl`]) {
            await Deno.remove(join(peerInbox, name)).catch(() => {});
          }
        }
      }
    }
    const cell = (row: Map<SandboxLayers, { ran: number; blocked: number }>, l: SandboxLayers) => {
      const c = row.get(l);
      if (c === undefined) return "-";
      return c.blocked === c.ran ? "blocked" : c.blocked === 0 ? "open" : `${c.blocked}/${c.ran}`;
    };
    const width = Math.max(...[...matrix.keys()].map((k) => k.length));
    console.log(`\n${"attempt".padEnd(width)}  both      deno      os`);
    for (const [name, row] of [...matrix].sort(([a], [b]) => a.localeCompare(b))) {
      console.log(
        `${name.padEnd(width)}  ${cell(row, "both").padEnd(8)}  ${cell(row, "deno").padEnd(8)}  ${
          cell(row, "os")
        }`,
      );
    }
    assert.deepEqual(failures, []);
    // every new attempt ran in every mode
    for (
      const name of [
        "import config.json by a string literal (a module in its own store)",
        "read keys/master.key through a symlink planted in its own store",
        "hard-link a file of its own store into a peer's inbox",
        "read /proc of a process outside its sandbox (cmdline)",
        "read what another agent left in localStorage",
        "read what another agent left in caches",
      ]
    ) {
      const row = matrix.get(name);
      assert.ok(row !== undefined && row.size === 3, `attempt ${name} ran in every mode`);
    }
    assert.ok([...matrix.keys()].some((k) => k.startsWith("allocate an ArrayBuffer")));
  } finally {
    target.close();
    await accepting;
    await t.cleanup();
  }
});
