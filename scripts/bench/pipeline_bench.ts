/**
 * The pipeline benchmark module: end-to-end latency (text-only and with an
 * image, quiet and back-to-back), per-hop rename-to-`validated` latency, the
 * polling-transport baseline and idle CPU of every agent, measured on a real
 * supervisor and its sandboxed agents by `pipeline_measure.ts` in a child
 * process (see `_child.ts`).
 *
 * @module
 */
import { runMeasureChild } from "./_child.ts";
import type { BenchContext, BenchModule, BenchResult } from "./types.ts";

/** End-to-end, per-hop and idle measurements of the running pipeline. */
export const pipelineBench: BenchModule = {
  name: "pipeline",
  run(ctx: BenchContext): Promise<BenchResult[]> {
    return runMeasureChild(
      new URL("./pipeline_measure.ts", import.meta.url),
      ctx.quick ? ["--quick"] : [],
    );
  },
};
