/**
 * The contract of a benchmark module: `deno task bench` runs every module in the
 * registry (`registry.ts`) and judges each measurement against its target.
 *
 * @module
 */

/** What a benchmark module gets from the runner. */
export interface BenchContext {
  /** `--quick`: smaller workloads for a fast smoke run. */
  quick: boolean;
  /** `--soak`: the long run (10,000 articles through the pipeline), judged on loss and duplicates. */
  soak?: boolean;
  /** A fresh temp folder for this module, removed after it runs. */
  tempDir: string;
}

/** One measurement and the target it is judged against. */
export interface BenchResult {
  /** What was measured, e.g. `ledger append (batches of 100)`. */
  name: string;
  /** The measured value. */
  value: number;
  /** Unit of `value` and `target`, e.g. `events/s` or `ms`. */
  unit: string;
  /** The target, from docs/design.md section 11 where it names one. */
  target: number;
  /** True when bigger is better (a rate); false for latencies. */
  higherIsBetter: boolean;
  /** Reported for the record, not judged (e.g. a rate bound by the disk's fsync). */
  informational?: boolean;
  /**
   * A correctness result (nothing lost, nothing published twice), not a timing:
   * its miss fails a `--quick` run too, where timings are only reported.
   */
  correctness?: boolean;
  /** Workload facts for the record (event count, batch size…). */
  detail?: Record<string, number | string>;
}

/** A module of measurements. */
export interface BenchModule {
  /** Short name, e.g. `ledger`. */
  name: string;
  /** Runs the measurements. */
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

/** True when `result` meets its target. */
export function meetsTarget(result: BenchResult): boolean {
  if (result.informational === true) return true;
  return result.higherIsBetter ? result.value >= result.target : result.value <= result.target;
}
