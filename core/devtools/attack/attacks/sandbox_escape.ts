/**
 * Attack 10: sandbox escapes. For every agent of the target, a hostile script
 * (`../hostile_agent.ts`) runs with that agent's exact command line (the
 * supervisor's `agentCommand()` on its verified capset; only the entry module
 * swapped) and a cleared environment, as the supervisor spawns it. It tries to
 * read other agents' inboxes and stores, read `keys/` and `config.json`, write
 * `vault/`, `trust/` and the ledger, read `/proc/self/environ` and the
 * environment, connect, listen and fetch, spawn a process, load a library
 * (FFI), call `sys` APIs, create symlinks and hard links, and start a Worker
 * with more permissions. Every attempt must fail with `NotCapable` (and leave no
 * link behind); a control write to the agent's own store must succeed.
 *
 * The hostile processes run outside the supervisor, so the ledger records
 * nothing: the evidence is the permission system's `NotCapable`.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WORKER_OPTIONS_FLAG } from "../../../domain/capset/permissions.ts";
import { agentDir } from "../../../domain/home/layout.ts";
import type { AttackContext } from "../context.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "sandbox-escape";
const HOSTILE = fileURLToPath(new URL("../hostile_agent.ts", import.meta.url));

interface Result {
  name: string;
  outcome: string;
  message?: string;
  created?: boolean;
}

/** Categories of attempts by the hostile script's attempt names; the first match counts. */
const CATEGORIES: readonly { label: string; match: RegExp }[] = [
  { label: "create a symlink or a hard link", match: /^Deno\.(symlink|link)/ },
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
  const args = [
    ...cmd.args.slice(0, -1),
    HOSTILE,
    JSON.stringify({
      home: ctx.home.root,
      me: agent,
      agents: ctx.config.agents,
      connectPort: ports.connect,
      listenPort: ports.listen,
      workerOptions: cmd.args.includes(WORKER_OPTIONS_FLAG),
    }),
  ];
  const out = await new Deno.Command(cmd.deno, {
    args,
    cwd: ctx.repo,
    clearEnv: true,
    env: {},
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  try {
    return { results: (JSON.parse(text) as { results: Result[] }).results };
  } catch {
    return {
      results: [],
      error: `exit ${out.code}: ${new TextDecoder().decode(out.stderr).slice(0, 300)}`,
    };
  }
}

/** Attack 10. */
export const sandboxEscape: Attack = {
  name: NAME,
  number: 10,
  summary:
    "runs a hostile script with each agent's exact flags: reading keys, other inboxes and stores, writing vault/trust/ledger, env, network, spawn, FFI, links must all fail with NotCapable",
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
          `the hostile script with ${run.agent}'s exact flags`,
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
      const escaped = tries.filter((r) => r.outcome !== "NotCapable" || r.created === true);
      const agentsTried = new Set(tries.map((t) => t.agent)).size;
      const tried =
        `${category.label}, with each agent's exact flags (${agentsTried} agents, ${tries.length} attempts)`;
      if (escaped.length === 0) {
        line("BLOCKED", tried, "Deno permission sandbox of every agent", "NotCapable");
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
      line(
        r.outcome === "NotCapable" && r.created !== true ? "BLOCKED" : "BREACH",
        `${r.name}, with ${r.agent}'s exact flags`,
        r.outcome === "NotCapable" ? "Deno permission sandbox" : r.outcome,
        "NotCapable",
      );
    }
    return lines;
  },
};
