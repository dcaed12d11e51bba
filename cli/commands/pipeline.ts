/**
 * `saoe pipeline [--init]`: the supervisor in the foreground. Verifies the home,
 * spawns every agent in its sandbox, prints where intake (and later the viewer)
 * listen and how to submit, and runs until SIGINT/SIGTERM: the first stops the
 * agents cleanly (they drain in-flight work) and writes a final checkpoint, a
 * second kills them at once.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { homeLayout } from "../../core/domain/home/layout.ts";
import { startSupervisor, type Supervisor } from "../../core/services/supervisor/supervisor.ts";
import type { AgentStatus } from "../../core/services/supervisor/status.ts";

/** How to submit an article, printed at start. */
export const SUBMIT_HINT = "deno task saoe submit --title T --markdown-file F [--image F] --wait";

const VIEWER_ABSENT = "viewer: not part of this build";
/**
 * Signals closer together count once: on Ctrl-C the terminal signals the whole
 * foreground group and `deno task` forwards the same signal again.
 */
const SIGNAL_DEBOUNCE_MS = 500;

/** The repository root this CLI runs from. */
function repoRoot(): string {
  return fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

function agentLine(a: AgentStatus): string {
  const pid = a.pid !== undefined ? `pid ${a.pid}` : "no process";
  const exit = a.state === "up" || a.last_exit === undefined
    ? ""
    : `, last exit ${
      a.last_exit.signal ??
        (a.last_exit.code !== undefined ? `code ${a.last_exit.code}` : "spawn failed")
    }`;
  return `    ${a.name.padEnd(16)} ${pid}, ${a.state}${exit}`;
}

function announce(ctx: CommandContext, supervisor: Supervisor, agents: AgentStatus[]): void {
  if (ctx.global.json) {
    for (const a of agents) ctx.out(JSON.stringify({ kind: "agent", ...a }));
    ctx.out(JSON.stringify({ kind: "intake", url: supervisor.intakeUrl ?? null }));
    ctx.out(
      JSON.stringify({
        kind: "viewer",
        url: supervisor.viewerUrl ?? null,
        ...(supervisor.viewerUrl === undefined ? { message: VIEWER_ABSENT } : {}),
      }),
    );
    ctx.out(JSON.stringify({ kind: "submit", command: SUBMIT_HINT }));
    ctx.out(JSON.stringify({ kind: "ready" }));
    return;
  }
  ctx.out("  agents:");
  for (const a of agents) ctx.out(agentLine(a));
  ctx.out(`  intake:  ${supervisor.intakeUrl ?? "not part of this home (no intake agent)"}`);
  ctx.out(
    `  ${supervisor.viewerUrl !== undefined ? `viewer:  ${supervisor.viewerUrl}` : VIEWER_ABSENT}`,
  );
  ctx.out(`  submit:  ${SUBMIT_HINT}`);
  ctx.out("Running. Press Ctrl-C to stop (twice to kill the agents at once).");
}

/** `saoe pipeline`. */
export const pipelineCommand: Command = {
  path: ["pipeline"],
  summary: "run the supervisor and every agent in the foreground",
  usage: "[--init]",
  description: [
    "Verifies the home (trust root chain against the pinned root, key directory, every",
    "capability set, the tool manifest, and that no symlink or hard link lies in a folder",
    "agents can reach), then spawns each agent as a separate sandboxed Deno process with",
    "exactly the flags its capability set derives, appends their signed audit events to the",
    "ledger, and restarts crashed agents with backoff. Ctrl-C (or SIGTERM) stops the agents",
    "after their in-flight work, writes a final checkpoint and exits 0; a second Ctrl-C kills",
    "them at once. With --json, prints one JSON object per line (kinds: home, agent, intake,",
    "viewer, submit, ready, stopped).",
  ].join("\n"),
  options: {
    init: { type: "boolean", help: "create the home first if it has no config.json" },
  },
  async run(ctx) {
    const repo = repoRoot();
    const json = ctx.global.json;
    let signals = 0;
    let lastSignal = -Infinity;
    let supervisor: Supervisor | undefined;
    const onSignal = () => {
      const now = performance.now();
      if (now - lastSignal < SIGNAL_DEBOUNCE_MS) return;
      lastSignal = now;
      signals++;
      if (supervisor === undefined) return; // still starting: handled right after start
      if (signals === 1) {
        ctx.err("supervisor: stopping the agents (Ctrl-C again to kill them now)");
        void supervisor.stop();
      } else {
        ctx.err("supervisor: killing the agents");
        supervisor.kill();
      }
    };
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
    try {
      if (ctx.values.init === true && !await exists(homeLayout(ctx.global.home).config)) {
        await initHome({
          home: ctx.global.home,
          sources: join(repo, "vault"),
          repo,
          clock: systemClock,
          progress: (line) => ctx.err(`init: ${line}`),
        });
      }
      // agent lines that come before the home line are printed after it
      let early: string[] | undefined = [];
      const agentChange = (a: AgentStatus) => {
        const line = JSON.stringify({ kind: "agent", ...a });
        if (early !== undefined) early.push(line);
        else ctx.out(line);
      };
      supervisor = await startSupervisor({
        home: ctx.global.home,
        repo,
        log: (line) => ctx.err(line),
        ...(json ? { onAgentChange: agentChange } : {}),
      });
      if (json) {
        ctx.out(JSON.stringify({ kind: "home", home: supervisor.home.root, pid: Deno.pid }));
        for (const line of early) ctx.out(line);
        early = undefined;
      } else {
        ctx.out(`SAOE pipeline (supervisor pid ${Deno.pid})`);
        ctx.out(`  home:    ${supervisor.home.root}`);
      }
      if (signals > 0) {
        void supervisor.stop();
        if (signals > 1) supervisor.kill();
      }
      const ready = await Promise.race([
        supervisor.ready,
        supervisor.stopped.then(() => undefined),
      ]);
      if (ready !== undefined) announce(ctx, supervisor, ready);
      const report = await supervisor.stopped;
      if (json) {
        ctx.out(JSON.stringify({ kind: "stopped", ...report }));
      } else if (report.checkpoint !== undefined) {
        ctx.out(
          `Stopped. Final checkpoint at record ${report.checkpoint.treeSize} (head ${report.checkpoint.headHash}).`,
        );
      }
      if (report.error !== undefined) {
        ctx.err(`saoe pipeline: ${report.error}`);
        return EXIT.failure;
      }
      return EXIT.ok;
    } finally {
      Deno.removeSignalListener("SIGINT", onSignal);
      Deno.removeSignalListener("SIGTERM", onSignal);
    }
  },
};
