/**
 * The throughput benchmark module: pipeline startup, then N text-only articles
 * pushed through a real supervisor and its sandboxed agents as fast as intake
 * allows (1,000; 30 with `--quick`; 10,000 with `--soak`), judged on the rate and
 * on none lost, none published twice and none rejected; measured by
 * `throughput_measure.ts` in a child process (see `_child.ts`).
 *
 * @module
 */
import { runMeasureChild } from "./_child.ts";
import type { BenchContext, BenchModule, BenchResult } from "./types.ts";

/** Startup and sustained throughput of the running pipeline. */
export const throughputBench: BenchModule = {
  name: "throughput",
  run(ctx: BenchContext): Promise<BenchResult[]> {
    return runMeasureChild(
      new URL("./throughput_measure.ts", import.meta.url),
      ctx.soak === true ? ["--soak"] : ctx.quick ? ["--quick"] : [],
    );
  },
};
