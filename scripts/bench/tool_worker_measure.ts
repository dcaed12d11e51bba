/**
 * Cost of one tool call through ToolGate's worker pool, outside the pipeline:
 * `markdown_to_html` on the demo article and `image_sanitize` on a 1600×1200
 * JPEG, in Workers with no permissions,
 *
 * - cold: a worker started for the call (it imports the tool's dependencies on
 *   the call's path, as every call did before the pool);
 * - fresh warm: the pool's pre-started worker, its module already imported and
 *   its `warm()` export already called, serving its first call
 *   (`callsPerWorker: 1`: one isolate per call);
 * - reused: the pool's default, the same worker serving call after call
 *   (back to back, as under sustained load);
 * - and the CPU time of this process per fresh isolate (start, import, warm(),
 *   one call): what one isolate per call costs under load.
 *
 * Run as its own process by `tool_worker_bench.ts` (Workers with
 * `deno.permissions` need `--unstable-worker-options`); prints JSON results.
 *
 * @module
 */
import { join } from "node:path";
import { IMAGE_SANITIZE, MARKDOWN_TO_HTML } from "../../core/domain/toolgate/builtin_tools.ts";
import { readToolModule } from "../../core/domain/toolgate/module_file.ts";
import { ToolWorkerPool } from "../../core/domain/toolgate/worker_pool.ts";
import { IMAGE_RESIZE_MAX } from "../../core/services/deployment/plans.ts";
import { sampleJpeg } from "../demo/sample_image.ts";
import { REPO } from "./_pipeline.ts";
import { percentile, round1 } from "./_stats.ts";
import type { BenchResult } from "./types.ts";

interface ToolCase {
  tool: string;
  module: Uint8Array<ArrayBuffer>;
  args: unknown;
  input: Uint8Array;
  timeoutMs: number;
}

async function waitReady(pool: ToolWorkerPool, tool: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!pool.warm().some((w) => w.tool === tool && w.state === "ready")) {
    if (performance.now() > deadline) throw new Error(`the warm ${tool} worker never got ready`);
    await new Promise((r) => setTimeout(r, 5));
  }
  // let the just-finished worker's thread wind down before timing the next call
  await new Promise((r) => setTimeout(r, 50));
}

async function timed(pool: ToolWorkerPool, c: ToolCase): Promise<number> {
  const start = performance.now();
  await pool.run(c);
  return performance.now() - start;
}

async function cold(c: ToolCase, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const pool = new ToolWorkerPool();
    try {
      out.push(await timed(pool, c));
    } finally {
      pool.close();
    }
  }
  return out;
}

async function warm(c: ToolCase, count: number): Promise<number[]> {
  const pool = new ToolWorkerPool({ callsPerWorker: 1 });
  try {
    await pool.prestart(c.tool, c.module);
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      await waitReady(pool, c.tool);
      out.push(await timed(pool, c));
    }
    return out;
  } finally {
    pool.close();
  }
}

async function reused(c: ToolCase, count: number): Promise<number[]> {
  const pool = new ToolWorkerPool();
  try {
    await pool.run(c);
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(await timed(pool, c));
    return out;
  } finally {
    pool.close();
  }
}

/** CPU ms of this process (every worker thread included) per fresh isolate and call. */
async function isolateCpu(c: ToolCase, count: number): Promise<number[]> {
  const pool = new ToolWorkerPool({ callsPerWorker: 1, prestartDelayMs: 0 });
  try {
    await pool.run(c);
    await waitReady(pool, c.tool);
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const before = cpuMs();
      await pool.run(c);
      await waitReady(pool, c.tool);
      out.push(cpuMs() - before);
    }
    return out;
  } finally {
    pool.close();
  }
}

function cpuMs(): number {
  const [utime, stime] = Deno.readTextFileSync("/proc/self/stat").split(") ")[1]!.split(" ")
    .slice(11, 13).map(Number);
  return ((utime! + stime!) * 1000) / 100;
}

function row(name: string, ms: number[], target: number, informational: boolean): BenchResult {
  return {
    name,
    value: round1(percentile(ms, 50)),
    unit: "ms",
    target,
    higherIsBetter: false,
    ...(informational ? { informational: true } : {}),
    detail: { calls: ms.length, p95_ms: round1(percentile(ms, 95)) },
  };
}

/** Measures cold and warm tool calls. */
export async function measureToolWorkers(quick: boolean): Promise<BenchResult[]> {
  const markdown = await Deno.readTextFile(join(REPO, "scripts/demo/sample_article.md"));
  const text: ToolCase = {
    tool: MARKDOWN_TO_HTML.name,
    module: await readToolModule(REPO, MARKDOWN_TO_HTML.module),
    args: {},
    input: new TextEncoder().encode(markdown),
    timeoutMs: MARKDOWN_TO_HTML.timeout_ms,
  };
  const image: ToolCase = {
    tool: IMAGE_SANITIZE.name,
    module: await readToolModule(REPO, IMAGE_SANITIZE.module),
    args: { format: "jpeg", resize_max: IMAGE_RESIZE_MAX },
    input: sampleJpeg(1600, 1200),
    timeoutMs: IMAGE_SANITIZE.timeout_ms,
  };
  const n = quick ? 2 : 10;
  const results = [
    row("markdown_to_html call p50, cold worker", await cold(text, n), 60, true),
    row("markdown_to_html call p50, fresh warm worker", await warm(text, n), 20, true),
    row("markdown_to_html call p50, reused worker", await reused(text, n * 5), 5, false),
    row("markdown_to_html CPU per fresh isolate and call", await isolateCpu(text, n), 20, true),
    row("image_sanitize call p50, cold worker", await cold(image, n), 250, true),
    row("image_sanitize call p50, fresh warm worker", await warm(image, n), 250, true),
    row("image_sanitize call p50, reused worker", await reused(image, n), 250, true),
  ];
  console.error("bench: tool worker calls measured");
  return results;
}

if (import.meta.main) {
  console.log(JSON.stringify(await measureToolWorkers(Deno.args.includes("--quick"))));
}
