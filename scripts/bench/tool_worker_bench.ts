/**
 * The tool-worker benchmark module: one `markdown_to_html` and one
 * `image_sanitize` call in a cold and in a warm (pre-started) one-shot Worker,
 * measured by `tool_worker_measure.ts` in a child process (see `_child.ts`).
 *
 * @module
 */
import { runMeasureChild } from "./_child.ts";
import type { BenchContext, BenchModule, BenchResult } from "./types.ts";

/** Cold versus warm tool worker calls. */
export const toolWorkerBench: BenchModule = {
  name: "tool_worker",
  run(ctx: BenchContext): Promise<BenchResult[]> {
    return runMeasureChild(
      new URL("./tool_worker_measure.ts", import.meta.url),
      ctx.quick ? ["--quick"] : [],
    );
  },
};
