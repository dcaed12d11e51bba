/**
 * Attack 10: sandbox escapes. For every agent of the target, a hostile script
 * (`../hostile_agent.ts`) runs with that agent's exact command line (the
 * supervisor's `agentCommand()` on its verified capset, only the entry module
 * swapped): inside its bubblewrap sandbox, with its kernel limits and (as root)
 * its own uid, the Deno permission flags inside, and a cleared environment, as
 * the supervisor spawns it. It tries to read other agents' inboxes and stores,
 * read `keys/` and `config.json`, write `vault/`, `trust/` and the ledger, read
 * `/proc`, the environment, connect, listen and fetch, spawn a process, load a
 * library (FFI), call `sys` APIs, create symlinks and hard links (also into a
 * peer's inbox), read through a symlink planted in its store, import a file
 * outside its grants by a string literal, allocate past its memory limit and
 * start a Worker with more permissions. Every attempt must fail (and leave no
 * link behind); each line says which layer stopped it: Deno's permissions
 * (`NotCapable`) or the OS sandbox (the error the kernel gave). A control write
 * to the agent's own store must succeed.
 *
 * The hostile processes run outside the supervisor, so the ledger records
 * nothing: the evidence is each layer's refusal. `tests/security/` proves each
 * layer alone as well.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WORKER_OPTIONS_FLAG } from "../../../domain/capset/permissions.ts";
import { agentDir, inboxFromDir } from "../../../domain/home/layout.ts";
import {
  hostileCommand,
  type HostileResult,
  runHostile as spawnHostile,
} from "../hostile_command.ts";
import type { AttackContext } from "../context.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "sandbox-escape";
const HOSTILE = fileURLToPath(new URL("../hostile_agent.ts", import.meta.url));

type Result = HostileResult;

/** Categories of attempts by the hostile script's attempt names; the first match counts. */
const CATEGORIES: readonly { label: string; match: RegExp }[] = [
  { label: "create a symlink or a hard link", match: /^Deno\.(symlink|link)/ },
  {
    label: "hard-link or plant a FIFO in a peer's inbox",
    match: /^(hard-link a file|create a FIFO)/,
  },
  { label: "read keys/ through a symlink planted in its store", match: /symlink planted/ },
  { label: "import a file outside its grants by a string literal", match: /^import / },
  { label: "read /proc of a process outside its sandbox", match: /^read \/proc of/ },
  { label: "allocate memory past its limit", match: /^allocate / },
  {
    label: "read or list another agent's inbox, store or dead letters",
    match: /^(list|read) another agent/,
  },
  {
    label: "write another sender's inbox folder or another agent's store",
    match: /^write (into )?another/,
  },
  {
    label: "read keys/ (master key, key files, operator credential, listing)",
    match: /keys|operator credential|supervisor's key/,
  },
  { label: "read config.json", match: /^read config\.json/ },
  { label: "write vault/ (own capset, a new file)", match: /vault\// },
  { label: "write trust/ (key directory, a new root)", match: /trust\// },
  { label: "open the audit ledger for writing or reading", match: /ledger/ },
  { label: "read /proc/self/environ", match: /environ/ },
  { label: "read the environment (Deno.env)", match: /^Deno\.env/ },
  { label: "connect, listen or fetch on loopback", match: /^(connect|listen|fetch)/ },
  { label: "spawn a process", match: /^spawn/ },
  { label: "load libc through FFI", match: /ffi/ },
  { label: "call sys APIs (hostname)", match: /\(sys\)/ },
  { label: "start a Worker with more permissions than its own", match: /Worker/ },
];

async function runHostile(
  ctx: AttackContext,
  agent: string,
  ports: { connect: number; listen: number },
): Promise<{ results: Result[]; error?: string }> {
  const cmd = ctx.verified.commands.get(agent)!;
  const capset = ctx.verified.capsets.get(agent)!;
  const store = join(agentDir(ctx.home, agent), "store");
  // what someone with write access to the home plants before a restart
  const plantedLink = join(store, "attack-planted-link");
  await Deno.remove(plantedLink).catch(() => {});
  await Deno.symlink(join(ctx.home.keys, "master.key"), plantedLink);
  const peer = capset.sends[0]?.to;
  const command = hostileCommand({
    command: cmd,
    host: ctx.verified.sandboxHost,
    layers: "both",
    repo: ctx.repo,
    script: HOSTILE,
    args: [JSON.stringify({
      home: ctx.home.root,
      me: agent,
      agents: ctx.config.agents,
      connectPort: ports.connect,
      listenPort: ports.listen,
      workerOptions: cmd.args.includes(WORKER_OPTIONS_FLAG),
      plantedLink,
      ...(peer !== undefined ? { peerInbox: inboxFromDir(ctx.home, peer, agent) } : {}),
      foreignPid: Deno.pid,
      memoryBytes: (cmd.sandbox.limits.memory_mib + 512) * 2 ** 20,
    })],
  });
  try {
    return await spawnHostile(command, ctx.repo);
  } finally {
    await Deno.remove(plantedLink).catch(() => {});
    if (peer !== undefined) {
      for (const name of [`${agent}-hard-link.satl`, `${agent}-fifo.satl`]) {
        await Deno.remove(join(inboxFromDir(ctx.home, peer, agent), name)).catch(() => {});
      }
    }
    for (const name of ["link-source.satl", "probe_import.js"]) {
      await Deno.remove(join(store, name)).catch(() => {});
    }
  }
}

function blocked(r: Result): boolean {
  return r.outcome !== "succeeded" && r.created !== true;
}

/** Which layer stopped a set of attempts: Deno (`NotCapable`) or the OS sandbox. */
function stoppedBy(tries: readonly Result[]): { where: string; code: string } {
  const outcomes = [...new Set(tries.map((t) => t.outcome))].sort();
  const os = outcomes.filter((o) => o !== "NotCapable");
  if (os.length === 0) return { where: "Deno permissions of every agent", code: "NotCapable" };
  if (outcomes.length === os.length) {
    return { where: `the OS sandbox of every agent (${os.join(", ")})`, code: os.join("+") };
  }
  return {
    where: `Deno permissions, and the OS sandbox where Deno let it through (${os.join(", ")})`,
    code: outcomes.join("+"),
  };
}

/** Attack 10. */
export const sandboxEscape: Attack = {
  name: NAME,
  number: 10,
  summary:
    "runs a hostile script in each agent's exact sandbox: reading keys, other inboxes and stores, writing vault/trust/ledger, env, network, spawn, FFI, links, planted links, memory must all fail",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    // a real listener: a connect the sandbox let through would succeed
    const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepting = (async () => {
      for await (const conn of target) conn.close();
    })().catch(() => {});
    const agents = [...ctx.verified.commands.keys()];
    let runs: { agent: string; results: Result[]; error?: string }[];
    try {
      // listen: a port no capset grants; Deno refuses before any bind, so nothing else
      // on the machine can decide the outcome
      const ports = { connect: (target.addr as Deno.NetAddr).port, listen: 1 };
      runs = await Promise.all(
        agents.map(async (agent) => ({ agent, ...await runHostile(ctx, agent, ports) })),
      );
    } finally {
      target.close();
      await accepting;
      for (const agent of agents) {
        await Deno.remove(join(agentDir(ctx.home, agent), "store", "control.txt")).catch(() => {});
      }
    }
    const lines: AttackLine[] = [];
    const line = (verdict: "BLOCKED" | "BREACH", tried: string, where: string, code: string) =>
      lines.push({ attack: NAME, verdict, tried, where, code });
    for (const run of runs) {
      const control = run.results.find((r) => r.name.startsWith("control:"));
      if (run.error !== undefined || control?.outcome !== "succeeded") {
        line(
          "BREACH",
          `the hostile script in ${run.agent}'s exact sandbox`,
          `it did not run to the end, so the sandbox could not be judged (${
            run.error ?? control?.message ?? "no control result"
          })`,
          "NotCapable",
        );
      }
    }
    const all = runs.flatMap((r) =>
      r.results.filter((x) => !x.name.startsWith("control:")).map((x) => ({ ...x, agent: r.agent }))
    );
    const categoryOf = (name: string) => CATEGORIES.find((c) => c.match.test(name));
    for (const category of CATEGORIES) {
      const tries = all.filter((r) => categoryOf(r.name) === category);
      if (tries.length === 0) continue;
      const escaped = tries.filter((r) => !blocked(r));
      const agentsTried = new Set(tries.map((t) => t.agent)).size;
      const tried =
        `${category.label}, in each agent's exact sandbox (${agentsTried} agents, ${tries.length} attempts)`;
      if (escaped.length === 0) {
        const by = stoppedBy(tries);
        line("BLOCKED", tried, by.where, by.code);
      } else {
        const first = escaped[0]!;
        line(
          "BREACH",
          tried,
          `${first.agent}: ${first.name}: ${first.created ? "created the link" : first.outcome}${
            escaped.length > 1 ? ` (and ${escaped.length - 1} more)` : ""
          }`,
          "NotCapable",
        );
      }
    }
    for (const r of all.filter((x) => categoryOf(x.name) === undefined)) {
      const by = stoppedBy([r]);
      line(
        blocked(r) ? "BLOCKED" : "BREACH",
        `${r.name}, in ${r.agent}'s exact sandbox`,
        blocked(r) ? by.where : r.outcome,
        by.code,
      );
    }
    return lines;
  },
};
