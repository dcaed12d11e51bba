/**
 * `saoe quarantine list|retry|drop`: the operator's hands on dead letters. Every
 * refused envelope and every handler failure ends in `agents/<agent>/dead/` with
 * a reason; `list` shows them, `retry` moves one back for another run (into the
 * sender's inbox folder, or `agents/<agent>/retry/` when the agent had already
 * claimed its id: see `core/domain/queue/dead_letter.ts`), `drop` deletes it for good.
 * Each retry and drop is printed and recorded in the audit ledger as an
 * `operator_action` event (`core/services/ceremony/operator_audit.ts`: appended
 * here while no pipeline runs, else handed to the running supervisor).
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../core/primitives/errors.ts";
import { AGENT_ID_RE, UUID_RE } from "../../core/primitives/ids/patterns.ts";
import type { HomeLayout } from "../../core/domain/home/layout.ts";
import type { HomeConfig } from "../../core/domain/home/config.ts";
import {
  type DeadEntry,
  dropDead,
  listDead,
  retryDead,
} from "../../core/domain/queue/dead_letter.ts";
import { DEAD_KEY_RE } from "../../core/domain/queue/dead_record.ts";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { pipelineRunning } from "../_support/pipeline_probe.ts";
import { recordOperatorAction } from "../../core/services/ceremony/operator_audit.ts";
import { recordedJson, recordedLine } from "../_support/operator_record.ts";
import { printWitnessing, witnessIfOwn } from "../_support/witness_own_record.ts";
import { inert, jsonText, renderTable } from "../_support/output.ts";
import { patternOption, UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["quarantine"];
const SUBCOMMANDS = ["list", "retry", "drop"] as const;

function agentArg(value: string | undefined, config: HomeConfig): string {
  if (value === undefined) throw new UsageError("Missing AGENT");
  const agent = patternOption(value, AGENT_ID_RE, "AGENT", "an agent id such as planner");
  if (!config.agents.includes(agent)) {
    throw new UsageError(`Unknown agent "${agent}": this home runs ${config.agents.join(", ")}`);
  }
  return agent;
}

function keyArg(value: string | undefined): string {
  if (value === undefined) throw new UsageError('Missing KEY (see "saoe quarantine list")');
  return patternOption(value, DEAD_KEY_RE, "KEY", 'a dead-letter key from "saoe quarantine list"');
}

async function listOf(home: HomeLayout, agent: string): Promise<DeadEntry[]> {
  try {
    return await listDead(queuePaths(home, agent).dead);
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

function entryJson(agent: string, e: DeadEntry): Record<string, unknown> {
  const r = e.reason;
  return {
    agent,
    key: e.key,
    code: r?.code ?? null,
    message: r?.message ?? null,
    at: r?.at ?? null,
    ids: r?.ids ?? {},
    file: r?.file ?? null,
    sender: r?.sender ?? null,
    claimed: r?.claimed ?? null,
    retryable: r !== null && r.kept && e.entryPath !== null,
    ...(e.problem !== undefined ? { problem: e.problem } : {}),
  };
}

async function list(ctx: CommandContext, home: HomeLayout, agents: string[]): Promise<number> {
  const rows: Record<string, unknown>[] = [];
  const table: string[][] = [];
  for (const agent of agents) {
    for (const entry of await listOf(home, agent)) {
      const json = entryJson(agent, entry);
      rows.push(json);
      const r = entry.reason;
      table.push([
        agent,
        entry.key,
        r?.code ?? "?",
        r?.at ?? "-",
        r?.ids.envelope_id ?? "-",
        r?.ids.session_id ?? "-",
        json.retryable ? "yes" : "no",
        inert(r?.message ?? entry.problem ?? "", 160),
      ]);
    }
  }
  if (ctx.global.json) {
    ctx.out(jsonText({ ok: true, entries: rows }));
    return EXIT.ok;
  }
  if (table.length === 0) {
    ctx.out(`No dead letters${agents.length === 1 ? ` for ${agents[0]}` : ""}`);
    return EXIT.ok;
  }
  const header = ["agent", "key", "code", "at", "envelope", "session", "retry", "message"];
  for (const line of renderTable(header, table)) ctx.out(line);
  ctx.out("");
  ctx.out("Retry one: saoe quarantine retry AGENT KEY   Drop one: saoe quarantine drop AGENT KEY");
  return EXIT.ok;
}

async function act(
  ctx: CommandContext,
  home: HomeLayout,
  verb: "retry" | "drop",
  agent: string,
  key: string,
): Promise<number> {
  const paths = queuePaths(home, agent);
  const entry = (await listOf(home, agent)).find((e) => e.key === key);
  if (entry === undefined) {
    throw new SaoeError(
      "io_error",
      `No dead letter ${key} for ${agent} (see "saoe quarantine list ${agent}")`,
      { agent },
    );
  }
  const running = await pipelineRunning(home);
  let movedTo: string | undefined;
  if (verb === "retry") {
    const sender = entry.reason?.sender;
    if (entry.reason?.claimed === false && sender !== undefined) {
      // the supervisor creates inbox folders when it starts; a retry may come first
      await Deno.mkdir(join(paths.inbox, sender), { recursive: true, mode: 0o700 });
    }
    movedTo = await retryDead({
      deadDir: paths.dead,
      inbox: paths.inbox,
      retryDir: paths.retry,
      key,
    });
  } else {
    await dropDead({ deadDir: paths.dead, key });
  }
  // the reason file is the agent's: only well-formed ids go into the ledger
  const ids = entry.reason?.ids ?? {};
  const id = (value: unknown) =>
    typeof value === "string" && UUID_RE.test(value) ? value : undefined;
  const envelopeId = id(ids.envelope_id);
  const sessionId = id(ids.session_id);
  const code = entry.reason?.code;
  const recorded = await recordOperatorAction(home, {
    action: verb === "retry" ? "quarantine_retry" : "quarantine_drop",
    agent,
    key,
    ...(typeof code === "string" && /^[a-z_]{1,64}$/.test(code) ? { code } : {}),
    ...(envelopeId !== undefined ? { envelope_id: envelopeId } : {}),
    ...(sessionId !== undefined ? { session_id: sessionId } : {}),
    ...(movedTo !== undefined ? { moved_to: movedTo } : {}),
    pipeline_running: running,
  }, { clock: systemClock });
  const witnessing = await witnessIfOwn(home.root, recorded.recordedBy);
  if (ctx.global.json) {
    ctx.out(jsonText({
      ok: true,
      action: verb,
      agent,
      key,
      ...(movedTo !== undefined ? { moved_to: movedTo } : {}),
      pipeline_running: running,
      ...recordedJson(recorded, witnessing),
    }));
    return EXIT.ok;
  }
  if (verb === "retry") {
    ctx.out(`Retried ${agent} dead letter ${key}: moved to ${movedTo}`);
    ctx.out(
      running
        ? "The agent picks it up now; its result appears in saoe audit events under the same envelope id"
        : "The agent picks it up when the pipeline next starts",
    );
  } else {
    ctx.out(`Dropped ${agent} dead letter ${key} (entry and reason deleted)`);
  }
  ctx.out(recordedLine(recorded));
  printWitnessing(ctx, witnessing);
  return EXIT.ok;
}

/** `saoe quarantine list [AGENT] | retry AGENT KEY | drop AGENT KEY`. */
export const quarantineCommand: Command = {
  path: PATH,
  summary: "list, retry or drop dead-lettered envelopes",
  usage: "list [AGENT] | retry AGENT KEY | drop AGENT KEY",
  description: [
    "Every envelope an agent refuses, and every one whose handler fails, is kept in",
    "agents/<agent>/dead/ with its reason; nothing is dropped silently.",
    "",
    "  list [AGENT]     the dead letters of AGENT (or of every agent): key, reason code, time,",
    "                   envelope and session ids, whether it can be retried, the message",
    "  retry AGENT KEY  moves the entry back for another run: into the sender's inbox folder",
    "                   (validated again from scratch), or into agents/<agent>/retry/ when the",
    "                   agent had already claimed its envelope id (a handler failure)",
    "  drop AGENT KEY   deletes the entry and its reason for good",
    "",
    "Each retry and drop is recorded in the audit ledger as an operator_action event: appended",
    "here while no pipeline runs, else handed to the running supervisor (the ledger's single",
    "writer), which appends it; the command waits until it is in the ledger. A retried envelope",
    "is audited again by the agent in the ledger.",
    "",
    "Exit codes: 0 done, 1 refused (no such record, entry not retryable), 2 usage.",
  ].join("\n"),
  options: {},
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      const [verb, agentValue, keyValue, extra] = ctx.positionals;
      if (verb === undefined || !(SUBCOMMANDS as readonly string[]).includes(verb)) {
        throw new UsageError(
          verb === undefined
            ? "Missing subcommand: list, retry or drop"
            : `Unknown subcommand ${JSON.stringify(verb)}: expected list, retry or drop`,
        );
      }
      const { home, config } = await openHome(ctx.global.home);
      if (verb === "list") {
        if (keyValue !== undefined) {
          throw new UsageError(`Unexpected argument ${JSON.stringify(keyValue)}`);
        }
        const agents = agentValue === undefined ? config.agents : [agentArg(agentValue, config)];
        return await list(ctx, home, agents);
      }
      if (extra !== undefined) throw new UsageError(`Unexpected argument ${JSON.stringify(extra)}`);
      const agent = agentArg(agentValue, config);
      const key = keyArg(keyValue);
      return await act(ctx, home, verb as "retry" | "drop", agent, key);
    });
  },
};
