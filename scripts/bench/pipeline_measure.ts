/**
 * The pipeline measurements (the performance targets of docs/design.md section
 * 11: items 1 and 2, and the idle parts of 4 and 5), on a real supervisor and its
 * sandboxed agent processes:
 *
 * - end-to-end latency: articles submitted one at a time over HTTP with the
 *   operator credential, from `submitArticle` returning to the session's
 *   `published` event being readable in the ledger (text-only and text + a
 *   1600×1200 JPEG);
 * - per-hop latency: `forwarded.at` (sender, right before the rename) to the
 *   receiver's `validated.at`, by receiving agent;
 * - the same end-to-end run with the 500 ms polling transport, and the ratio;
 * - text-only latency with the home's witness running against paused
 *   (`witness_cost.ts`), and the ratio;
 * - idle CPU ticks and resident memory of every agent after the run.
 *
 * Run as its own process by `pipeline_bench.ts` (it needs loopback network for
 * intake, which the bench task itself is not given); prints its results as JSON.
 *
 * @module
 */
import { join } from "node:path";
import { submitArticle } from "../../core/services/intake/client.ts";
import { sampleJpeg } from "../demo/sample_image.ts";
import { type BenchPipeline, REPO, startBenchPipeline } from "./_pipeline.ts";
import {
  cpuTicks,
  hopLatencies,
  percentile,
  proportionalMiB,
  residentMiB,
  round1,
  waitQuiet,
} from "./_stats.ts";
import type { BenchResult } from "./types.ts";
import { witnessCostResults } from "./witness_cost.ts";
import { sandboxOffRepository } from "./sandbox_off_repo.ts";

/** Workload sizes of one run. */
export interface PipelineWorkload {
  /** Unmeasured articles first (cold tool workers, JIT). */
  warmup: number;
  /** Text-only articles, each submitted once the pipeline is quiet. */
  text: number;
  /** Text-only articles, each submitted as soon as the previous one is published. */
  backToBack: number;
  /** Text + image articles, each submitted once the pipeline is quiet. */
  image: number;
  poll: number;
  /** Pairs of text-only blocks with the witness running and paused (`witness_cost.ts`). */
  witnessPairs: number;
  /** Articles in each of those blocks. */
  witnessPerBlock: number;
  /** Quiet time before idle sampling starts. */
  settleMs: number;
  /** Wait after start before the fresh-start memory sample. */
  freshMs: number;
  /** Idle CPU sampling window. */
  idleMs: number;
}

/** The full and the `--quick` workloads. */
export const WORKLOADS: Record<"full" | "quick", PipelineWorkload> = {
  full: {
    warmup: 3,
    text: 100,
    backToBack: 30,
    image: 30,
    poll: 5,
    witnessPairs: 3,
    witnessPerBlock: 10,
    // past the tool workers' retirement after 5 s idle (core/domain/toolgate/worker_pool.ts)
    // and V8's memory reducer, which runs a few GCs in every process during the
    // first ~40 s after work stops (the settle row reports what they cost)
    settleMs: 45_000,
    freshMs: 10_000,
    // docs/design.md section 11, item 5: CPU time of each idle process over 60 s
    idleMs: 60_000,
  },
  quick: {
    warmup: 2,
    text: 15,
    backToBack: 5,
    image: 3,
    poll: 2,
    witnessPairs: 1,
    witnessPerBlock: 3,
    // past the tool workers' 5 s idle retirement, as in the full run
    settleMs: 6_000,
    freshMs: 3_000,
    idleMs: 3_000,
  },
};

const MARKDOWN = await Deno.readTextFile(join(REPO, "scripts/demo/sample_article.md"));

interface Article {
  session: string;
  ms: number;
  /** Wall-clock ms when the bench read the `published` event. */
  seenWall: number;
}

async function submitOne(
  p: BenchPipeline,
  n: number,
  image: Uint8Array<ArrayBuffer> | undefined,
): Promise<Article> {
  const from = p.ledger.events.length;
  const answer = await submitArticle({
    url: p.url,
    credential: p.credential,
    title: `Bench article ${n}`,
    markdown: MARKDOWN,
    ...(image === undefined ? {} : { images: [{ name: "photo.jpg", bytes: image }] }),
  });
  const submitted = performance.now();
  if (!answer.ok) throw new Error(`Intake refused article ${n}: ${answer.reason} ${answer.error}`);
  const session = answer.session_id;
  const { event, seenAt } = await p.ledger.waitFor(
    (e) => e.session_id === session && (e.type === "published" || e.type === "rejected"),
    { from, timeoutMs: 30_000, what: `session ${session} to be published` },
  );
  if (event.type !== "published") {
    throw new Error(`Session ${session} was refused: ${event.reason} ${JSON.stringify(event)}`);
  }
  return { session, ms: seenAt - submitted, seenWall: performance.timeOrigin + seenAt };
}

/** How articles follow each other. */
type Pace = "quiet" | "back-to-back";

async function submitMany(
  p: BenchPipeline,
  count: number,
  options: { image?: Uint8Array<ArrayBuffer>; pace: Pace; label: string },
): Promise<Article[]> {
  const out: Article[] = [];
  const pids = p.supervisor.agents().flatMap((a) => a.pid === undefined ? [] : [a.pid]);
  let waited = 0;
  for (let i = 0; i < count; i++) {
    // "quiet": the next article goes in once no agent used CPU for 100 ms (the
    // tool worker pre-started after the last call has finished importing)
    if (options.pace === "quiet") waited += await waitQuiet(pids, { quietMs: 100, maxMs: 3_000 });
    out.push(await submitOne(p, i, options.image));
  }
  console.error(
    `bench: ${count} ${options.label} article(s) published${
      options.pace === "quiet"
        ? `, ${Math.round(waited / Math.max(count, 1))} ms quiet wait each`
        : ""
    }`,
  );
  return out;
}

function latencyResults(
  label: string,
  articles: readonly Article[],
  targets: { p50: number; p95: number; informational: boolean },
): BenchResult[] {
  const ms = articles.map((a) => a.ms);
  const row = (p: number, target: number, informational: boolean): BenchResult => ({
    name: `${label} end to end p${p} (${ms.length} articles)`,
    value: round1(percentile(ms, p)),
    unit: "ms",
    target,
    higherIsBetter: false,
    ...(informational ? { informational: true } : {}),
    detail: {
      articles: ms.length,
      min_ms: round1(Math.min(...ms)),
      max_ms: round1(Math.max(...ms)),
    },
  });
  return [
    row(50, targets.p50, targets.informational),
    row(95, targets.p95, targets.informational),
    // docs/design.md section 11 names no p99 target: reported against the p95
    // target, for the record
    row(99, targets.p95, true),
  ];
}

/**
 * Where a quiet text-only article's time goes, stage by stage (medians, from the
 * ledger's timestamps), against a budget that adds up to the 60 ms target.
 */
function stageResults(p: BenchPipeline, articles: readonly Article[]): BenchResult[] {
  const stages: [string, number, (at: (agent: string, type: string) => number) => number][] = [
    [
      "hop intake to sanitization",
      5,
      (at) => at("sanitization", "validated") - at("intake", "forwarded"),
    ],
    [
      "sanitization handling",
      2,
      (at) => at("sanitization", "forwarded") - at("sanitization", "validated"),
    ],
    [
      "hop sanitization to planner",
      5,
      (at) => at("planner", "validated") - at("sanitization", "forwarded"),
    ],
    ["planner handling", 3, (at) => at("planner", "forwarded") - at("planner", "validated")],
    [
      "hop planner to text_formatter",
      5,
      (at) => at("text_formatter", "validated") - at("planner", "forwarded"),
    ],
    [
      "text_formatter handling (tool call)",
      15,
      (at) => at("text_formatter", "forwarded") - at("text_formatter", "validated"),
    ],
    [
      "hop text_formatter to deployment",
      5,
      (at) => at("deployment", "validated") - at("text_formatter", "forwarded"),
    ],
    [
      "deployment handling (publish)",
      10,
      (at) => at("deployment", "published") - at("deployment", "validated"),
    ],
  ];
  const bySession = new Map<string, Map<string, number>>();
  for (const e of p.ledger.events) {
    if (e.session_id === undefined) continue;
    const times = bySession.get(e.session_id) ?? new Map<string, number>();
    const key = `${e.agent}/${e.type}`;
    if (!times.has(key)) times.set(key, Date.parse(e.at));
    bySession.set(e.session_id, times);
  }
  const samples = stages.map(() => [] as number[]);
  const ledgerLag: number[] = [];
  for (const a of articles) {
    const times = bySession.get(a.session);
    if (times === undefined) continue;
    const at = (agent: string, type: string) => times.get(`${agent}/${type}`) ?? NaN;
    stages.forEach(([, , f], i) => samples[i]!.push(f(at)));
    ledgerLag.push(a.seenWall - at("deployment", "published"));
  }
  const row = (name: string, budget: number, ms: number[]): BenchResult => ({
    name: `stage p50: ${name}`,
    value: round1(percentile(ms.filter(Number.isFinite), 50)),
    unit: "ms",
    target: budget,
    higherIsBetter: false,
    informational: true,
    detail: { p95_ms: round1(percentile(ms.filter(Number.isFinite), 95)) },
  });
  return [
    ...stages.map(([name, budget], i) => row(name, budget, samples[i]!)),
    // the supervisor's batch delay, its ledger append and this bench's watch of audit/
    row("published to read from the ledger", 5, ledgerLag),
  ];
}

function hopResults(p: BenchPipeline): BenchResult[] {
  const hops = hopLatencies(p.ledger.events);
  const results: BenchResult[] = [];
  const all: number[] = [];
  for (const [agent, ms] of [...hops].sort(([a], [b]) => a.localeCompare(b))) {
    all.push(...ms);
    results.push({
      name: `rename to validated p95: ${agent}`,
      value: percentile(ms, 95),
      unit: "ms",
      target: 20,
      higherIsBetter: false,
      detail: { hops: ms.length, p50_ms: percentile(ms, 50), max_ms: Math.max(...ms) },
    });
  }
  results.push({
    name: "rename to validated p95: all hops",
    value: percentile(all, 95),
    unit: "ms",
    target: 20,
    higherIsBetter: false,
    detail: { hops: all.length, p50_ms: percentile(all, 50), max_ms: Math.max(...all) },
  });
  return results;
}

async function idleResults(p: BenchPipeline, w: PipelineWorkload): Promise<BenchResult[]> {
  const agents = p.supervisor.agents().filter((a) => a.pid !== undefined);
  // the settle phase: tool workers retired and pre-started afresh, V8's memory reducer
  const settling = await Promise.all(agents.map((a) => cpuTicks(a.pid!)));
  await new Promise((r) => setTimeout(r, w.settleMs));
  const before = await Promise.all(agents.map((a) => cpuTicks(a.pid!)));
  const settled = agents.map((a, i): [string, number] => [a.name, before[i]! - settling[i]!]);
  const supervisorBefore = await cpuTicks(Deno.pid, false);
  await new Promise((r) => setTimeout(r, w.idleMs));
  const supervisorAfter = await cpuTicks(Deno.pid, false);
  const after = await Promise.all(agents.map((a) => cpuTicks(a.pid!)));
  const results = agents.map((a, i): BenchResult => ({
    name: `idle CPU ticks over ${w.idleMs / 1000} s: ${a.name}`,
    value: after[i]! - before[i]!,
    unit: "ticks",
    target: 0,
    higherIsBetter: false,
    detail: { pid: a.pid! },
  }));
  results.push({
    // the supervisor runs in this process: its 5 s status refresh counts the
    // queues (a readDir per inbox) and writes nothing when nothing changed
    name: `idle CPU ticks over ${w.idleMs / 1000} s: supervisor (bench process)`,
    value: supervisorAfter - supervisorBefore,
    unit: "ticks",
    target: 0,
    higherIsBetter: false,
    informational: true,
  });
  results.push({
    name: `CPU ticks while settling ${w.settleMs / 1000} s after the workload, all agents`,
    value: settled.reduce((n, [, ticks]) => n + ticks, 0),
    unit: "ticks",
    target: 0,
    higherIsBetter: false,
    informational: true,
    detail: Object.fromEntries(settled),
  });
  results.push(...await memoryResults(p, "after the workload"));
  return results;
}

/**
 * Idle memory of the whole pipeline: every agent and the supervisor (which runs
 * inside this bench process, so its row includes the bench's own ledger
 * follower). Summed RSS counts the ~45 MiB of Deno's code that each of the
 * eight processes maps from the same file once per process; summed PSS charges
 * each shared page once across them and is what the pipeline costs the machine.
 */
export async function memoryResults(p: BenchPipeline, when: string): Promise<BenchResult[]> {
  const processes: [string, number][] = [
    ["supervisor (bench process)", Deno.pid],
    ...p.supervisor.agents().flatMap((a): [string, number][] =>
      a.pid === undefined ? [] : [[a.name, a.pid]]
    ),
  ];
  const rss = await Promise.all(processes.map(([, pid]) => residentMiB(pid, pid !== Deno.pid)));
  const pss = await Promise.all(processes.map(([, pid]) => proportionalMiB(pid, pid !== Deno.pid)));
  const sum = (values: number[]) => round1(values.reduce((n, v) => n + v, 0));
  return [{
    name: `idle memory of the whole pipeline (PSS), ${when}`,
    value: sum(pss),
    unit: "MiB",
    target: 400,
    higherIsBetter: false,
    detail: Object.fromEntries(processes.map(([name], i) => [name, pss[i]!])),
  }, {
    name: `idle memory of the whole pipeline (summed RSS), ${when}`,
    value: sum(rss),
    unit: "MiB",
    target: 400,
    higherIsBetter: false,
    informational: true,
    detail: Object.fromEntries(processes.map(([name], i) => [name, rss[i]!])),
  }];
}

/**
 * What the OS sandbox costs (docs/design.md section 11, item 10): each agent's
 * start-up (spawn to ready) inside both layers minus the same agent with the
 * Deno layer alone, and the text-only p50 of both runs.
 */
export function sandboxCostResults(
  both: ReadonlyMap<string, number>,
  denoOnly: ReadonlyMap<string, number>,
  bothP50: number,
  denoOnlyText: readonly { ms: number }[],
): BenchResult[] {
  const extra: Record<string, number> = {};
  for (const [agent, ms] of both) {
    const base = denoOnly.get(agent);
    if (base !== undefined) extra[agent] = round1(ms - base);
  }
  const worst = Math.max(...Object.values(extra));
  const baseP50 = percentile(denoOnlyText.map((a) => a.ms), 50);
  return [
    {
      name: "sandbox: agent start-up added by the OS layer (worst agent, spawn to ready)",
      value: round1(worst),
      unit: "ms",
      target: 150,
      higherIsBetter: false,
      // per agent: ms added by the OS layer (both layers minus the Deno layer alone)
      detail: extra,
    },
    {
      name: "sandbox: text-only p50 with both layers / Deno layer alone",
      value: round1(bothP50 / baseP50 * 100) / 100,
      unit: "x",
      target: 1.1,
      higherIsBetter: false,
      detail: {
        both_layers_p50_ms: round1(bothP50),
        deno_only_p50_ms: round1(baseP50),
        articles: denoOnlyText.length,
      },
    },
  ];
}

/** Runs every pipeline measurement in `dir` and returns the results. */
export async function measurePipeline(
  dir: string,
  w: PipelineWorkload,
): Promise<BenchResult[]> {
  const image = sampleJpeg(1600, 1200);
  const load = Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]);
  const results: BenchResult[] = [{
    // latencies on 2 cores are only comparable between runs on an otherwise idle machine
    name: "machine load average (1 min) before the run",
    value: load,
    unit: "",
    target: 0.5,
    higherIsBetter: false,
    informational: true,
    detail: { cores: navigator.hardwareConcurrency },
  }];
  let watchP50: number;
  let bothStartup = new Map<string, number>();
  {
    await using p = await startBenchPipeline({ dir, transport: "watch" });
    // before any article: no tool has run, deployment has not loaded jsdom
    await new Promise((r) => setTimeout(r, w.freshMs));
    const fresh = await memoryResults(p, "fresh start");
    const warm = await submitMany(p, w.warmup, { pace: "back-to-back", label: "warm-up" });
    const text = await submitMany(p, w.text, { pace: "quiet", label: "text-only" });
    const burst = await submitMany(p, w.backToBack, {
      pace: "back-to-back",
      label: "text-only back-to-back",
    });
    // the first image article starts image_filter's tool worker cold
    const imageWarm = await submitMany(p, 1, { image, pace: "quiet", label: "image warm-up" });
    const images = await submitMany(p, w.image, { image, pace: "quiet", label: "text+image" });
    const witnessCost = await witnessCostResults(p, {
      pairs: w.witnessPairs,
      perBlock: w.witnessPerBlock,
      submit: (count, label) => submitMany(p, count, { pace: "quiet", label }),
    });
    watchP50 = percentile(text.map((a) => a.ms), 50);
    bothStartup = p.agentStartupMs;
    results.push(
      ...latencyResults("text-only", text, { p50: 60, p95: 150, informational: false }),
      ...latencyResults("text-only back-to-back", burst, {
        p50: 60,
        p95: 150,
        informational: true,
      }),
      ...latencyResults("text+image (1600x1200 JPEG)", images, {
        p50: 250,
        p95: 500,
        informational: true,
      }),
      {
        name: "first articles (cold tool workers)",
        value: round1(Math.max(warm[0]!.ms, imageWarm[0]!.ms)),
        unit: "ms",
        target: 1_000,
        higherIsBetter: false,
        informational: true,
        detail: { text_ms: round1(warm[0]!.ms), image_ms: round1(imageWarm[0]!.ms) },
      },
      ...witnessCost,
      ...fresh,
      ...stageResults(p, text),
      ...hopResults(p),
      ...await idleResults(p, w),
    );
    const dump = Deno.env.get("SAOE_BENCH_DUMP");
    if (dump !== undefined) await Deno.writeTextFile(dump, JSON.stringify(p.ledger.events));
  }
  {
    // the same pipeline with the Deno layer alone: what the OS sandbox costs
    await using p = await startBenchPipeline({
      dir,
      transport: "watch",
      repo: await sandboxOffRepository(REPO),
      label: "deno_only",
    });
    await submitMany(p, w.warmup, { pace: "back-to-back", label: "warm-up (Deno layer only)" });
    const text = await submitMany(p, w.text, {
      pace: "quiet",
      label: "text-only (Deno layer only)",
    });
    results.push(...sandboxCostResults(bothStartup, p.agentStartupMs, watchP50, text));
  }
  {
    await using p = await startBenchPipeline({ dir, transport: "poll" });
    const poll = await submitMany(p, w.poll, { pace: "quiet", label: "polling-transport" });
    const pollP50 = percentile(poll.map((a) => a.ms), 50);
    results.push({
      name: `polling transport text-only p50 (${poll.length} articles)`,
      value: round1(pollP50),
      unit: "ms",
      target: 1_000,
      higherIsBetter: false,
      informational: true,
      detail: { articles: poll.length },
    }, {
      name: "watch vs 500 ms polling, p50 speed-up",
      value: round1(pollP50 / watchP50),
      unit: "x",
      target: 20,
      higherIsBetter: true,
      detail: { watch_p50_ms: round1(watchP50), poll_p50_ms: round1(pollP50) },
    });
  }
  return results;
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const dir = await Deno.makeTempDir({ prefix: "saoe_bench_pipeline_" });
  try {
    const results = await measurePipeline(dir, WORKLOADS[quick ? "quick" : "full"]);
    console.log(JSON.stringify(results));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
