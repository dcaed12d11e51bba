/**
 * `saoe status`: the pipeline at a glance. The supervisor's own report
 * (`audit/status.json`: per agent state, pid, restarts) joined with facts read
 * live from the home: whether a supervisor holds the ledger (it is running),
 * inbox depths, dead-letter counts, the ledger head and the last checkpoint
 * (verified against the supervisor's key from the verified directory).
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { type HomeLayout, witnessedCheckpointPath } from "../../core/domain/home/layout.ts";
import type { HomeConfig } from "../../core/domain/home/config.ts";
import { AGENT_ID_RE } from "../../core/primitives/ids/patterns.ts";
import { inboxDepth } from "../../core/domain/queue/depth.ts";
import { listDead } from "../../core/domain/queue/dead_letter.ts";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import { verifyWitnessedCheckpoint } from "../../core/domain/ledger/checkpoint.ts";
import { logOrigin } from "../../core/domain/ledger/log_identity.ts";
import { witnessPolicy } from "../../core/services/witness/policy.ts";
import { toHex } from "../../core/primitives/crypto/bytes.ts";
import { readSmallFile } from "../_support/safe_read.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import {
  checkpointKeys,
  type HomeTrust,
  verifyHomeTrust,
} from "../../core/domain/trust/home_trust.ts";
import {
  type AgentExit,
  readSupervisorStatus,
  type SupervisorStatus,
} from "../../core/services/supervisor/status.ts";
import { ledgerExists, openLedgerForReading } from "../_support/ledger_access.ts";
import { pipelineRunning } from "../_support/pipeline_probe.ts";
import { inert, jsonText, renderTable, shellQuote } from "../_support/output.ts";
import { UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["status"];

interface AgentRow {
  agent: string;
  state: string;
  pid: number | null;
  restarts: number | null;
  last_exit: AgentExit | null;
  /** Why the agent was not started (state `refused`): the reason code and the file. */
  refusal: { code: string; message: string; file?: string } | null;
  inbox: number;
  dead: number;
  /** `http://127.0.0.1:PORT` where the agent serves (intake, the viewer), when it reported one. */
  url: string | null;
}

interface StatusReport {
  ok: true;
  home: string;
  pipeline: {
    running: boolean;
    /** The supervisor's own state while it runs: running or stopping. */
    state: string | null;
    pid: number | null;
    started_at: string | null;
    updated_at: string | null;
    note?: string;
  };
  trust: { ok: boolean; root_version?: number; root_expires_at?: string; problem?: string };
  agents: AgentRow[];
  ledger:
    | { size: number; head: string; root: string; witnessed: number | null }
    | { size: null; problem: string }
    | null;
  checkpoint:
    | {
      tree_size: number;
      root: string;
      cosigners: string[];
      verified: boolean;
      problem?: string;
    }
    | null;
  /** What the running supervisor reports of its witnesses. */
  witnesses: NonNullable<SupervisorStatus["witnesses"]>;
  /** The agents' OS sandbox as the running supervisor reports it. */
  sandbox: SupervisorStatus["sandbox"] | null;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function senderFolders(inbox: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(inbox)) {
      if (entry.isDirectory && AGENT_ID_RE.test(entry.name)) names.push(entry.name);
    }
  } catch (err: unknown) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names;
}

async function deadCount(dir: string): Promise<number> {
  try {
    return (await listDead(dir)).length;
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
}

async function agentRows(
  home: HomeLayout,
  config: HomeConfig,
  running: boolean,
  status: SupervisorStatus | undefined,
): Promise<AgentRow[]> {
  const rows: AgentRow[] = [];
  for (const agent of config.agents) {
    const paths = queuePaths(home, agent);
    const reported = running ? status?.agents.find((a) => a.name === agent) : undefined;
    rows.push({
      agent,
      state: running ? reported?.state ?? "unknown" : "stopped",
      pid: reported?.pid ?? null,
      restarts: reported?.restarts ?? null,
      last_exit: reported?.last_exit ?? null,
      refusal: reported?.refusal ?? null,
      inbox: await inboxDepth({ inbox: paths.inbox, senders: await senderFolders(paths.inbox) }),
      dead: await deadCount(paths.dead),
      url: reported?.listen === undefined ? null : `http://${reported.listen}`,
    });
  }
  return rows;
}

/**
 * The latest witnessed checkpoint as `audit/checkpoint` states it, verified
 * against the supervisor's keys and the witness policy (the witnesses themselves
 * are asked by `saoe audit verify`).
 */
async function checkpointOf(
  home: HomeLayout,
  config: HomeConfig,
  trust: HomeTrust | undefined,
): Promise<StatusReport["checkpoint"]> {
  const path = witnessedCheckpointPath(home);
  if ((await Deno.lstat(path).catch(() => undefined)) === undefined) return null;
  const invalid = (problem: string) => ({
    tree_size: 0,
    root: "",
    cosigners: [],
    verified: false,
    problem,
  });
  if (trust === undefined) return invalid("the trust root does not verify");
  try {
    const head = await verifyWitnessedCheckpoint(
      await readSmallFile(path, { maxBytes: 16 * 1024, what: "witnessed checkpoint" }),
      {
        origin: logOrigin(config.root_pin),
        logKeys: checkpointKeys(trust.directory, systemClock.now()),
        policy: witnessPolicy(config),
        what: "audit/checkpoint",
      },
    );
    return {
      tree_size: head.size,
      root: toHex(head.root),
      cosigners: head.cosigners.map((c) => c.name),
      verified: true,
    };
  } catch (err: unknown) {
    return invalid(describe(err));
  }
}

async function gather(root: string): Promise<StatusReport> {
  const { home, config } = await openHome(root);
  const running = await pipelineRunning(home);
  let status: SupervisorStatus | undefined;
  let note: string | undefined;
  try {
    status = await readSupervisorStatus(home);
  } catch (err: unknown) {
    note = `the status file cannot be read: ${describe(err)}`;
  }
  if (running && status === undefined && note === undefined) {
    note = "the supervisor holds the ledger but has not written audit/status.json yet";
  }
  if (!running && status !== undefined) {
    note = status.state === "stopped"
      ? `the pipeline stopped cleanly at ${status.updated_at}`
      : `the pipeline ended without a clean stop (killed?); its last report was at ${status.updated_at}`;
  }
  let trust: HomeTrust | undefined;
  let trustReport: StatusReport["trust"];
  try {
    trust = await verifyHomeTrust({ home, config, clock: systemClock });
    trustReport = {
      ok: true,
      root_version: trust.root.version,
      root_expires_at: trust.root.expires_at,
    };
  } catch (err: unknown) {
    trustReport = { ok: false, problem: describe(err) };
  }
  let ledger: StatusReport["ledger"] = null;
  if (await ledgerExists(home)) {
    // a ledger that cannot be read is said so, never shown beside a verified checkpoint
    try {
      const open = await openLedgerForReading(home);
      try {
        const head = open.head();
        ledger = {
          size: head.size,
          head: head.hash,
          root: head.root,
          witnessed: running ? status?.ledger?.witnessed ?? null : null,
        };
      } finally {
        open.close();
      }
    } catch (err: unknown) {
      ledger = { size: null, problem: describe(err) };
    }
  }
  return {
    ok: true,
    home: home.root,
    pipeline: {
      running,
      state: running ? status?.state ?? null : null,
      pid: running ? status?.pid ?? null : null,
      started_at: running ? status?.started_at ?? null : null,
      updated_at: status?.updated_at ?? null,
      ...(note !== undefined ? { note } : {}),
    },
    trust: trustReport,
    sandbox: running ? status?.sandbox ?? null : null,
    agents: await agentRows(home, config, running, status),
    ledger,
    checkpoint: ledger !== null && ledger.size === null
      ? {
        tree_size: 0,
        root: "",
        cosigners: [],
        verified: false,
        problem: "the ledger cannot be read",
      }
      : await checkpointOf(home, config, trust),
    witnesses: running ? status?.witnesses ?? [] : [],
  };
}

function exitText(exit: AgentExit | null): string {
  if (exit === null) return "-";
  const how = exit.code !== undefined
    ? `code ${exit.code}`
    : exit.signal ?? (exit.error !== undefined ? `spawn failed: ${exit.error}` : "?");
  return `${how} at ${exit.at}`;
}

function print(report: StatusReport, out: (line: string) => void): void {
  const p = report.pipeline;
  out(`Home:        ${report.home}`);
  const facts = [
    p.pid !== null ? `supervisor pid ${p.pid}` : "",
    p.started_at !== null ? `since ${p.started_at}` : "",
  ].filter((f) => f !== "").join(", ");
  out(
    `Pipeline:    ${
      p.running
        ? `${p.state === "stopping" ? "stopping" : "running"}${facts === "" ? "" : ` (${facts})`}`
        : `not running (start it: deno task saoe pipeline --home ${shellQuote(report.home)})`
    }`,
  );
  if (p.note !== undefined) out(`             note: ${inert(p.note, 300)}`);
  const t = report.trust;
  out(
    `Trust root:  ${
      t.ok
        ? `v${t.root_version} verified from the pin, expires ${t.root_expires_at}`
        : `DOES NOT VERIFY: ${inert(t.problem ?? "", 300)}`
    }`,
  );
  out("");
  if (report.sandbox !== null && report.sandbox !== undefined) {
    out(
      `Sandbox:     bubblewrap + Deno permissions; ${
        report.sandbox.uids === "per_agent"
          ? "each agent runs as its own uid"
          : "uids are shared with the supervisor (it is not root); mount, pid and network isolation still apply"
      }`,
    );
  }
  const rows = report.agents.map((a) => [
    a.agent,
    a.state,
    a.pid === null ? "-" : String(a.pid),
    a.restarts === null ? "-" : String(a.restarts),
    String(a.inbox),
    String(a.dead),
    a.refusal !== null
      ? `not started: ${a.refusal.code}${
        a.refusal.file !== undefined ? ` (${inert(a.refusal.file, 200)})` : ""
      }`
      : exitText(a.last_exit),
  ]);
  const header = ["agent", "state", "pid", "restarts", "inbox", "dead", "last exit"];
  for (const line of renderTable(header, rows)) {
    out(line);
  }
  for (const a of report.agents) if (a.url !== null) out(`${`${a.agent}:`.padEnd(13)}${a.url}`);
  out("");
  const l = report.ledger;
  out(
    `Ledger:      ${
      l === null
        ? report.checkpoint?.verified === true && report.checkpoint.tree_size > 0
          ? `MISSING, but the witnessed checkpoint covers ${report.checkpoint.tree_size} records (run saoe audit verify)`
          : "none yet (the pipeline creates it)"
        : l.size === null
        ? `CANNOT BE READ: ${inert(l.problem, 300)} (run saoe audit verify)`
        : `${l.size} records, root ${l.root}${
          l.witnessed === null
            ? ""
            : `, ${l.size - l.witnessed} not witnessed yet (witnessed up to ${l.witnessed})`
        }`
    }`,
  );
  const c = report.checkpoint;
  out(
    `Witnessed:   ${
      c === null
        ? "no witnessed checkpoint yet"
        : c.verified
        ? `${c.tree_size} records, root ${c.root}, cosigned by ${
          c.cosigners.join(", ")
        } (signatures verified; saoe audit verify asks the witnesses)`
        : `INVALID: ${inert(c.problem ?? "", 300)}`
    }`,
  );
  for (const w of report.witnesses) {
    out(
      `  witness ${inert(w.name)} at ${inert(w.url)}: ${w.state}, cosigned up to ${w.size}${
        w.error !== undefined ? ` (${inert(w.error, 200)})` : ""
      }`,
    );
  }
}

/** `saoe status`. */
export const statusCommand: Command = {
  path: PATH,
  summary: "agents, queue depths, dead letters, ledger head and last checkpoint",
  usage: "",
  description: [
    "Shows whether the pipeline runs on the home (a running supervisor holds the ledger's",
    "writer lock) and, per agent, its state, pid and restarts as the supervisor last reported",
    "them in audit/status.json, the entries waiting in its inbox (agents/<agent>/inbox/*/) and its",
    "dead-letter records (agents/<agent>/dead/; see saoe quarantine list). Then the ledger head",
    "(records, Merkle root, how many the witnesses have not cosigned yet), the latest witnessed",
    "checkpoint from audit/checkpoint (verified against the supervisor's key and the witnesses'",
    "keys, after the trust root chain is verified from the pin) and each witness's state.",
    "",
    "With --json: one object {ok, home, pipeline, trust, sandbox, agents: [...], ledger,",
    "checkpoint, witnesses}; sandbox is {uids: per_agent|shared} while a pipeline runs, else null.",
    "An agent in state refused was not started: its code differs from the signed code manifest",
    "(last exit names the file; fix it or re-pin with saoe publish --code).",
    "",
    "Exit codes: 0 shown (also when the pipeline is stopped), 1 no home, 2 usage.",
  ].join("\n"),
  options: {},
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.positionals.length > 0) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
      }
      let report: StatusReport;
      try {
        report = await gather(ctx.global.home);
      } catch (err: unknown) {
        if (err instanceof SaoeError) throw err;
        throw new SaoeError(
          "io_error",
          `Cannot read the status of ${ctx.global.home}: ${describe(err)}`,
        );
      }
      if (ctx.global.json) ctx.out(jsonText(report));
      else print(report, ctx.out);
      return EXIT.ok;
    });
  },
};
