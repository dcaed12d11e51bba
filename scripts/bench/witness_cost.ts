/**
 * What witnessing costs the article path: text-only end-to-end latency with the
 * home's witness running, against the same pipeline with that witness paused
 * (`SIGSTOP`: its process takes no CPU and answers nothing, as if there were no
 * witness; the supervisor's sends wait and time out off the article path). The
 * production supervisor has no mode without a witness, so the bench pauses the
 * witness process rather than switching witnessing off.
 *
 * Blocks alternate (with, without, without, with, …) so warm-up and drift fall
 * on both sides alike. After each block with the witness running, the bench
 * waits for the witness to cosign a checkpoint covering that block: a block it
 * did not witness fails the run rather than count as witnessed.
 *
 * @module
 */
import { percentile, round1 } from "./_stats.ts";
import type { BenchPipeline } from "./_pipeline.ts";
import type { BenchResult } from "./types.ts";

/** One measured article. */
export interface TimedArticle {
  ms: number;
}

/** Options for {@linkcode witnessCostResults}. */
export interface WitnessCostOptions {
  /** Pairs of blocks (one with, one without the witness). */
  pairs: number;
  /** Articles per block. */
  perBlock: number;
  /** Submits `count` text-only articles at a quiet pace and returns their latencies. */
  submit(count: number, label: string): Promise<TimedArticle[]>;
}

const LOCAL_WITNESS_RE = /local witness (\S+) \(state .*\) listening on \S+ \(pid (\d+)\)/;

/** The pid of the home's local witness, from the supervisor's start notice. */
function witnessPid(p: BenchPipeline): number {
  for (const line of p.logs) {
    const m = LOCAL_WITNESS_RE.exec(line);
    if (m !== null) return Number(m[2]);
  }
  throw new Error(`The bench pipeline started no local witness:\n${p.logs.join("\n")}`);
}

/** Waits until the witnesses have cosigned a checkpoint beyond `size`. */
async function waitCosigned(p: BenchPipeline, size: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (p.ledger.witnessedSize() <= size) {
    if (performance.now() > deadline) {
      throw new Error(
        `The witness cosigned nothing past size ${size} within ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Measures text-only p50 with and without the witness; one ratio row. */
export async function witnessCostResults(
  p: BenchPipeline,
  options: WitnessCostOptions,
): Promise<BenchResult[]> {
  const pid = witnessPid(p);
  const withMs: number[] = [];
  const withoutMs: number[] = [];
  let cosignedWith = 0;
  let cosignedWithout = 0;
  let paused = false;
  try {
    for (let pair = 0; pair < options.pairs; pair++) {
      const order = pair % 2 === 0 ? [true, false] : [false, true];
      for (const witnessed of order) {
        if (witnessed && paused) {
          Deno.kill(pid, "SIGCONT");
          paused = false;
          // the supervisor's pending send completes, or its next checkpoint goes out
          await waitCosigned(p, p.ledger.witnessedSize(), 40_000);
        } else if (!witnessed && !paused) {
          Deno.kill(pid, "SIGSTOP");
          paused = true;
        }
        const before = p.ledger.witnessedSize();
        const block = await options.submit(
          options.perBlock,
          `text-only (witness ${witnessed ? "running" : "paused"})`,
        );
        if (witnessed) {
          // the block's records reach a checkpoint within a second: the witness cosigns it
          await waitCosigned(p, before, 10_000);
          withMs.push(...block.map((a) => a.ms));
          cosignedWith++;
        } else {
          withoutMs.push(...block.map((a) => a.ms));
          if (p.ledger.witnessedSize() > before) cosignedWithout++;
        }
      }
    }
  } finally {
    if (paused) Deno.kill(pid, "SIGCONT");
  }
  const withP50 = percentile(withMs, 50);
  const withoutP50 = percentile(withoutMs, 50);
  return [{
    name:
      `text-only p50 with a witness / without (paused), ${withMs.length} + ${withoutMs.length} articles`,
    value: Math.round((withP50 / withoutP50) * 1000) / 1000,
    unit: "x",
    target: 1.1,
    higherIsBetter: false,
    detail: {
      with_p50_ms: round1(withP50),
      without_p50_ms: round1(withoutP50),
      blocks: options.pairs * 2,
      per_block: options.perBlock,
      blocks_cosigned_running: cosignedWith,
      // should be 0: a cosignature there was already on its way when the witness paused
      blocks_cosigned_paused: cosignedWithout,
    },
  }];
}
