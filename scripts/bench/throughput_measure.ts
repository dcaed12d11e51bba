/**
 * The sustained-throughput and startup measurements (docs/design.md section 11:
 * items 3 and 6, the load parts of 4 and 5, and the `--soak` run), on a real
 * supervisor and its sandboxed agents:
 *
 * - startup: from calling `startSupervisor` to every agent reporting ready;
 * - sustained throughput: N text-only articles submitted by a few concurrent
 *   submitters as fast as intake allows, with an automation credential whose
 *   quota is raised for the benchmark; a 429 or 503 is counted and retried after
 *   its `Retry-After`. Articles published per second from the first submission
 *   to the last `published` event (and over the middle 80 % of publications),
 *   and the time until the last is published;
 * - integrity, from the ledger: every accepted session published exactly once
 *   (none lost, none published twice) and no `rejected` event.
 *
 * A run never hangs: past its deadline the submitters stop and the results
 * report how many articles were published and where the others are stuck; a
 * watchdog kills the agents if even the shutdown hangs. Run as its own process
 * by `throughput_bench.ts`; prints its results as JSON on the last stdout line.
 *
 * @module
 */
import { join } from "node:path";
import { type SubmitAnswer, submitArticle } from "../../core/services/intake/client.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { ledgerPath } from "../../core/domain/home/layout.ts";
import { type BenchPipeline, REPO, startBenchPipeline } from "./_pipeline.ts";
import { cpuTicks, peakResidentMiB, round1 } from "./_stats.ts";
import type { BenchResult } from "./types.ts";

/** Workload of one run. */
export interface ThroughputWorkload {
  /** Text-only articles to publish. */
  articles: number;
  /** Unmeasured articles published first (cold tool workers, JIT). */
  warmup: number;
  /** Concurrent submitters. */
  submitters: number;
  /** The whole run (warm-up, submitting and draining) stops after this many ms. */
  deadlineMs: number;
  /**
   * True when the rate is judged against the target: the full run only (30
   * articles measure a burst of under a second; the soak is judged on loss and
   * duplicates); otherwise the rate is for the record.
   */
  judgeRate: boolean;
}

/** The `--quick`, full and `--soak` workloads. */
export const WORKLOADS: Record<"quick" | "full" | "soak", ThroughputWorkload> = {
  quick: { articles: 30, warmup: 3, submitters: 8, deadlineMs: 120_000, judgeRate: false },
  full: { articles: 1_000, warmup: 3, submitters: 8, deadlineMs: 900_000, judgeRate: true },
  soak: { articles: 10_000, warmup: 3, submitters: 8, deadlineMs: 7_200_000, judgeRate: false },
};

/** The sustained-rate target of docs/design.md section 11, item 3 (articles/s). */
const TARGET_RATE = 50;
/** Automation quota of the benchmark credential (the config's maximum). */
const AUTOMATION_PER_MINUTE = 1_000_000;
/** How often progress goes to stderr. */
const PROGRESS_MS = 5_000;
/**
 * Allowance for starting the pipeline (its ready timeout is 30 s) and stopping
 * it, past the run's deadline, before the watchdog kills the agents.
 */
const WATCHDOG_SLACK_MS = 120_000;
/** One submission gives up after this long (then it is retried). */
const SUBMIT_TIMEOUT_MS = 30_000;
/** Consecutive unreachable-intake errors of one submitter before the run fails. */
const MAX_IO_ERRORS = 5;

const MARKDOWN = await Deno.readTextFile(join(REPO, "scripts/demo/sample_article.md"));

/** What the submitters saw. */
interface Submitted {
  /** Wall-clock ms of the first submission. */
  firstAt: number;
  /** Wall-clock ms of the last acceptance. */
  lastAcceptedAt: number;
  /** Accepted session ids. */
  sessions: Set<string>;
  /** Retried refusals by `<status> <reason>`. */
  refusals: Map<string, number>;
  /** Submissions that never reached intake or timed out (retried). */
  ioErrors: number;
  /** Set when a submitter met a refusal it cannot retry. */
  fatal?: string;
}

/** What the ledger showed. */
interface Observed {
  /** Times each session was published. */
  published: Map<string, number>;
  /** Wall-clock ms (event `at`) of each session's first publication, in ledger order. */
  publishedAt: number[];
  /** `rejected` events by reason. */
  rejected: Map<string, number>;
  /** Other failure events (`handler_error`, `quarantine_limit_exceeded`, …) by type. */
  failures: Map<string, number>;
  /** The last `<agent>/<type>` of each session not yet published. */
  lastStep: Map<string, string>;
  intakeAccepted: number;
}

const FAILURE_TYPES = new Set([
  "handler_error",
  "plan_rejected",
  "quarantine_limit_exceeded",
  "sandbox_violation",
  "agent_exited",
]);

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function observe(o: Observed, e: AuditEvent, ignore: ReadonlySet<string>): void {
  if (e.session_id !== undefined && ignore.has(e.session_id)) return;
  if (e.type === "rejected") bump(o.rejected, e.reason ?? "unknown");
  if (FAILURE_TYPES.has(e.type)) bump(o.failures, e.type);
  if (e.type === "intake_accepted") o.intakeAccepted++;
  const session = e.session_id;
  if (session === undefined) return;
  if (e.type === "published") {
    const times = (o.published.get(session) ?? 0) + 1;
    o.published.set(session, times);
    if (times === 1) o.publishedAt.push(Date.parse(e.at));
    o.lastStep.delete(session);
  } else if (!o.published.has(session)) {
    o.lastStep.set(session, `${e.agent}/${e.type}`);
  }
}

/** Sleeps `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/**
 * Submits `count` articles with `submitters` concurrent loops, each retrying a
 * 429/503 after its `Retry-After`, until all are accepted or `signal` aborts.
 */
async function submitAll(
  p: BenchPipeline,
  credential: string,
  w: Pick<ThroughputWorkload, "articles" | "submitters">,
  signal: AbortSignal,
): Promise<Submitted> {
  const s: Submitted = {
    firstAt: Date.now(),
    lastAcceptedAt: NaN,
    sessions: new Set(),
    refusals: new Map(),
    ioErrors: 0,
  };
  let next = 0;
  const loop = async () => {
    let ioStreak = 0;
    while (!signal.aborted && s.fatal === undefined && next < w.articles) {
      const n = next++;
      for (;;) {
        if (signal.aborted || s.fatal !== undefined) return;
        let answer: SubmitAnswer;
        try {
          answer = await submitArticle({
            url: p.url,
            credential,
            title: `Throughput article ${n}`,
            markdown: MARKDOWN,
            timeoutMs: SUBMIT_TIMEOUT_MS,
          });
        } catch (err: unknown) {
          s.ioErrors++;
          if (++ioStreak >= MAX_IO_ERRORS) {
            s.fatal = `Cannot reach intake ${ioStreak} times in a row: ${
              err instanceof Error ? err.message : String(err)
            }`;
            return;
          }
          await sleep(1_000, signal);
          continue;
        }
        ioStreak = 0;
        if (answer.ok) {
          s.sessions.add(answer.session_id);
          s.lastAcceptedAt = Date.now();
          break;
        }
        if (answer.status === 429 || answer.status === 503) {
          bump(s.refusals, `${answer.status} ${answer.reason}`);
          await sleep((answer.retry_after ?? 1) * 1_000, signal);
          continue;
        }
        s.fatal = `Intake refused article ${n} with HTTP ${answer.status}: ${answer.reason} ` +
          answer.error;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: w.submitters }, loop));
  return s;
}

/** `count` of `things`, most frequent first, e.g. `text_formatter/validated x12`. */
function summarize(counts: Map<string, number>): string {
  return [...counts].sort(([, a], [, b]) => b - a).map(([k, v]) => `${k} x${v}`).join(", ");
}

/** Where the accepted but unpublished sessions are, by their last ledger event. */
function stuckSummary(s: Submitted, o: Observed): string {
  const where = new Map<string, number>();
  for (const session of s.sessions) {
    if (o.published.has(session)) continue;
    bump(where, o.lastStep.get(session) ?? "no event after acceptance");
  }
  return summarize(where);
}

function rate(count: number, ms: number): number {
  return ms > 0 ? Math.round((count / ms) * 1_000 * 10) / 10 : 0;
}

/** Articles/s between the 10th and the 90th percentile publication (0 below 10 publications). */
function steadyRate(times: readonly number[]): number {
  if (times.length < 10) return 0;
  const sorted = [...times].sort((a, b) => a - b);
  const lo = Math.floor(sorted.length * 0.1);
  const hi = Math.ceil(sorted.length * 0.9) - 1;
  return rate(hi - lo, sorted[hi]! - sorted[lo]!);
}

/** What one {@linkcode drive} saw. */
interface Drive {
  s: Submitted;
  o: Observed;
  deadlineHit: boolean;
}

/**
 * Runs the submitters and follows the ledger from its current end until every
 * accepted article is published or the deadline passes; events of the sessions
 * in `ignore` (an earlier drive) are left out.
 */
async function drive(
  p: BenchPipeline,
  w: Pick<ThroughputWorkload, "articles" | "submitters">,
  options: {
    credential: string;
    ignore: ReadonlySet<string>;
    label: string;
    /** `performance.now()` past which the drive stops. */
    deadline: number;
  },
): Promise<Drive> {
  const o: Observed = {
    published: new Map(),
    publishedAt: [],
    rejected: new Map(),
    failures: new Map(),
    lastStep: new Map(),
    intakeAccepted: 0,
  };
  const stop = new AbortController();
  const deadline = options.deadline;
  let submitted: Submitted | undefined;
  const submitting = submitAll(p, options.credential, w, stop.signal).then((s) => submitted = s);
  const startedAt = Date.now();
  let lastCount = 0;
  const progress = setInterval(() => {
    const count = o.publishedAt.length;
    console.error(
      `bench: ${options.label} ${count}/${w.articles} published, ${
        rate(count - lastCount, PROGRESS_MS)
      }/s now, ${rate(count, Date.now() - startedAt)}/s overall`,
    );
    lastCount = count;
  }, PROGRESS_MS);
  let seen = p.ledger.events.length;
  let deadlineHit = false;
  const done = () =>
    submitted !== undefined &&
    (submitted.fatal !== undefined ||
      [...submitted.sessions].every((session) => o.published.has(session)));
  try {
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) {
        deadlineHit = true;
        break;
      }
      try {
        await p.ledger.waitFor((e) => {
          seen++;
          observe(o, e, options.ignore);
          // cheap test first: every accepted session can only be published once all were submitted
          return submitted !== undefined && o.publishedAt.length >= submitted.sessions.size &&
            done();
        }, { from: seen, timeoutMs: Math.min(1_000, left), what: "the next publication" });
      } catch (err: unknown) {
        if (!(err instanceof Error && err.message.startsWith("Timed out"))) throw err;
      }
    }
  } finally {
    clearInterval(progress);
    stop.abort();
  }
  const s = await submitting;
  if (s.fatal !== undefined) throw new Error(s.fatal);
  return { s, o, deadlineHit };
}

/** Rows in the supervisor's ledger right now. */
async function ledgerRows(p: BenchPipeline): Promise<number> {
  const ledger = await openLedger({ path: ledgerPath(p.home), readOnly: true });
  try {
    return ledger.head().size;
  } finally {
    ledger.close();
  }
}

/** Runs the startup and throughput measurements in `dir` and returns the results. */
export async function measureThroughput(
  dir: string,
  w: ThroughputWorkload,
  onPipeline: (p: BenchPipeline) => void = () => {},
): Promise<BenchResult[]> {
  await using p = await startBenchPipeline({
    dir,
    transport: "watch",
    automationPerMinute: AUTOMATION_PER_MINUTE,
  });
  onPipeline(p);
  const credential = p.automationCredential;
  if (credential === undefined) throw new Error("The benchmark home has no automation credential");
  console.error(
    `bench: pipeline ready in ${Math.round(p.startupMs)} ms; submitting ${w.articles} ` +
      `text-only articles with ${w.submitters} submitters (deadline ${w.deadlineMs / 1000} s)`,
  );
  const deadline = performance.now() + w.deadlineMs;
  const warm = await drive(p, { ...w, articles: w.warmup }, {
    deadline,
    credential,
    ignore: new Set(),
    label: "throughput warm-up",
  });
  if (warm.deadlineHit) {
    throw new Error(
      `Warm-up articles not published within ${w.deadlineMs / 1000} s; unpublished sessions ` +
        `by last event: ${stuckSummary(warm.s, warm.o)}`,
    );
  }
  const rowsBefore = await ledgerRows(p);
  const agents = p.supervisor.agents().filter((a) => a.pid !== undefined);
  const processes: [string, number][] = [
    ["supervisor and bench client", Deno.pid],
    ...agents.map((a): [string, number] => [a.name, a.pid!]),
  ];
  const ticksBefore = await Promise.all(
    processes.map(([, pid]) => cpuTicks(pid, pid !== Deno.pid)),
  );
  const { s, o, deadlineHit } = await drive(p, w, {
    deadline,
    credential,
    ignore: warm.s.sessions,
    label: "throughput",
  });
  const rowsAfter = await ledgerRows(p);
  const ticksAfter = await Promise.all(processes.map(([, pid]) => cpuTicks(pid, pid !== Deno.pid)));
  const peaks = await Promise.all(
    processes.map(([, pid]) => peakResidentMiB(pid, pid !== Deno.pid)),
  );
  // a tick is 10 ms of CPU time (USER_HZ = 100)
  const cpuMsPerArticle = processes.map(([name], i): [string, number] => [
    name,
    round1(((ticksAfter[i]! - ticksBefore[i]!) * 10) / Math.max(o.publishedAt.length, 1)),
  ]);

  const published = o.publishedAt.length;
  const lastPublished = published === 0 ? s.firstAt : Math.max(...o.publishedAt);
  const elapsedMs = (deadlineHit ? Date.now() : lastPublished) - s.firstAt;
  const lost = [...s.sessions].filter((session) => !o.published.has(session)).length;
  const twice = [...o.published.values()].filter((n) => n > 1).length;
  const unknown = [...o.published.keys()].filter((session) => !s.sessions.has(session)).length;
  const rejected = [...o.rejected.values()].reduce((a, b) => a + b, 0);
  const refusals = [...s.refusals.values()].reduce((a, b) => a + b, 0);
  const stuck = stuckSummary(s, o);
  if (deadlineHit) {
    console.error(
      `bench: throughput deadline of ${w.deadlineMs / 1000} s hit with ${published} of ` +
        `${w.articles} published (${s.sessions.size} accepted); unpublished sessions by last ` +
        `event: ${stuck || "none"}`,
    );
  }
  const run: Record<string, number | string> = {
    articles: w.articles,
    warmup_articles: w.warmup,
    submitters: w.submitters,
    accepted: s.sessions.size,
    published,
    elapsed_s: Math.round(elapsedMs) / 1000,
    deadline_hit: deadlineHit ? "yes" : "no",
  };
  const judged = w.judgeRate ? {} : { informational: true };
  // a run cut short says so in every name, so a table reader cannot miss it
  const cut = deadlineHit ? ` [deadline hit: ${published} of ${w.articles} published]` : "";
  return [
    {
      name: "startup: pipeline start to all agents ready",
      value: Math.round(p.startupMs),
      unit: "ms",
      target: 3_000,
      higherIsBetter: false,
      informational: true,
      detail: { agents: p.supervisor.agents().length },
    },
    {
      // where the 2 cores go under sustained load: the profile of the run
      name: "CPU time per published article, all processes",
      value: round1(cpuMsPerArticle.reduce((n, [, ms]) => n + ms, 0)),
      unit: "ms",
      target: 40,
      higherIsBetter: false,
      informational: true,
      detail: Object.fromEntries(cpuMsPerArticle),
    },
    ...processes.map(([name], i): BenchResult => ({
      name: `peak resident memory: ${name}`,
      value: peaks[i]!,
      unit: "MiB",
      target: 150,
      higherIsBetter: false,
      informational: true,
      detail: { pid: processes[i]![1] },
    })),
    {
      name: `sustained throughput (${w.articles} text-only articles)${cut}`,
      value: rate(published, elapsedMs),
      unit: "articles/s",
      target: TARGET_RATE,
      higherIsBetter: true,
      ...judged,
      detail: {
        ...run,
        steady_rate_middle_80pct: steadyRate(o.publishedAt),
        drain_after_last_accepted_ms: Math.round(lastPublished - s.lastAcceptedAt),
      },
    },
    {
      name: `sustained throughput, middle 80 % of publications${cut}`,
      value: steadyRate(o.publishedAt),
      unit: "articles/s",
      target: TARGET_RATE,
      higherIsBetter: true,
      informational: true,
      detail: run,
    },
    {
      name: `time until the last of ${w.articles} articles is published${cut}`,
      value: Math.round(elapsedMs) / 1000,
      unit: "s",
      target: w.articles / TARGET_RATE,
      higherIsBetter: false,
      informational: true,
      detail: run,
    },
    {
      name: `lost: accepted, never published (of ${s.sessions.size})${cut}`,
      correctness: true,
      value: lost,
      unit: "articles",
      target: 0,
      higherIsBetter: false,
      detail: { ...run, stuck_at: stuck || "none" },
    },
    {
      name: `published twice (of ${s.sessions.size})`,
      correctness: true,
      value: twice,
      unit: "articles",
      target: 0,
      higherIsBetter: false,
      detail: { ...run, published_not_accepted: unknown },
    },
    {
      name: "rejected events during the throughput run",
      correctness: true,
      value: rejected,
      unit: "events",
      target: 0,
      higherIsBetter: false,
      detail: {
        by_reason: summarize(o.rejected) || "none",
        other_failures: summarize(o.failures) || "none",
      },
    },
    {
      name: "intake refusals retried (429/503)",
      value: refusals,
      unit: "refusals",
      target: 0,
      higherIsBetter: false,
      informational: true,
      detail: {
        by_status: summarize(s.refusals) || "none",
        io_errors_retried: s.ioErrors,
        intake_accepted_events: o.intakeAccepted,
      },
    },
    {
      name: "ledger rows appended per published article",
      value: published === 0 ? 0 : Math.round(((rowsAfter - rowsBefore) / published) * 10) / 10,
      unit: "rows",
      target: 20,
      higherIsBetter: false,
      informational: true,
      detail: { rows_before: rowsBefore, rows_after: rowsAfter, elapsed_s: run.elapsed_s! },
    },
  ];
}

/** Parses `--name=<integer>` from `args`. */
function intArg(args: readonly string[], name: string): number | undefined {
  const raw = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,7}$/.test(raw)) {
    throw new Error(`Invalid --${name}=${raw}: expected a positive integer`);
  }
  return Number(raw);
}

if (import.meta.main) {
  const args = Deno.args;
  const base = WORKLOADS[
    args.includes("--soak") ? "soak" : args.includes("--quick") ? "quick" : "full"
  ];
  // ad-hoc runs: --articles=N and --deadline-s=S override the workload
  const articles = intArg(args, "articles") ?? base.articles;
  const deadlineS = intArg(args, "deadline-s");
  const w: ThroughputWorkload = {
    ...base,
    articles,
    ...(deadlineS === undefined ? {} : { deadlineMs: deadlineS * 1_000 }),
  };
  const dir = await Deno.makeTempDir({ prefix: "saoe_bench_throughput_" });
  let pipeline: BenchPipeline | undefined;
  // the last resort against a hung shutdown: kill the agents, remove the home, fail
  const watchdog = setTimeout(() => {
    console.error(
      `bench: throughput run still running ${
        (w.deadlineMs + WATCHDOG_SLACK_MS) / 1000
      } s after its start (stuck ${
        pipeline === undefined ? "starting the pipeline" : "stopping the pipeline"
      }); killing the agents`,
    );
    pipeline?.supervisor.kill();
    Deno.removeSync(dir, { recursive: true });
    Deno.exit(1);
  }, w.deadlineMs + WATCHDOG_SLACK_MS);
  try {
    const results = await measureThroughput(dir, w, (p) => pipeline = p);
    console.log(JSON.stringify(results));
  } finally {
    clearTimeout(watchdog);
    await Deno.remove(dir, { recursive: true });
  }
}
