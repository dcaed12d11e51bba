/**
 * Every benchmark module `deno task bench` runs, in order. Add a module here (one
 * file per subsystem under `scripts/bench/`, e.g. validator throughput, end-to-end
 * latency) and it is run, judged and recorded with the others.
 *
 * @module
 */
import { ledgerBench } from "./ledger_bench.ts";
import { pipelineBench } from "./pipeline_bench.ts";
import { throughputBench } from "./throughput_bench.ts";
import { toolWorkerBench } from "./tool_worker_bench.ts";
import { validatorBench } from "./validator_bench.ts";
import type { BenchModule } from "./types.ts";

/** The registered benchmark modules. */
export const BENCH_MODULES: readonly BenchModule[] = [
  ledgerBench,
  validatorBench,
  toolWorkerBench,
  pipelineBench,
  throughputBench,
];
