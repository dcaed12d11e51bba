/**
 * `deno task bench [--quick] [--soak]`: runs every registered benchmark module
 * (`scripts/bench/registry.ts`), prints a table with each target and PASS/MISS,
 * and records the run in `bench/results/<timestamp>.json`. Exits 1 if a target is
 * missed. `--quick` is a smoke run of the harness (CI runs it): its workloads
 * are too small to judge timings, so only correctness results (nothing lost or
 * published twice) and a module that fails to run set its exit code. `--soak` makes the throughput module push 10,000 articles through the
 * pipeline (judged on none lost and none published twice). Benchmarks are not
 * tests: timings never gate `deno task test`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { BENCH_MODULES } from "./bench/registry.ts";
import { formatTable, judge, type JudgedResult, writeResults } from "./bench/report.ts";

const USAGE = `Usage: deno task bench [--quick] [--soak]

Measures SAOE on this machine: ledger and validator rates, tool worker calls,
end-to-end latency (watch and polling transports), per-hop latency, idle CPU
and memory, startup, and sustained throughput. Prints a table and writes
bench/results/<timestamp>.json. Exit code 1 when a target is missed.

Options:
  --quick   smoke run (about 1 minute): small workloads, timings reported but
            not enforced; only lost or duplicated articles fail the run
  --soak    throughput with 10,000 articles (judged on none lost and none
            published twice); about 4 minutes more
  --help    this text`;

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(USAGE);
  Deno.exit(0);
}
const quick = Deno.args.includes("--quick");
const soak = Deno.args.includes("--soak");
const unknown = Deno.args.filter((a) => a !== "--quick" && a !== "--soak");
if (unknown.length > 0) {
  console.error(`Unknown argument ${unknown[0]}\n\n${USAGE}`);
  Deno.exit(2);
}

const startedAt = new Date();
const results: JudgedResult[] = [];
for (const module of BENCH_MODULES) {
  const tempDir = await Deno.makeTempDir({ prefix: `saoe_bench_${module.name}_` });
  try {
    console.error(
      `bench: running ${module.name}${quick ? " (quick)" : ""}${soak ? " (soak)" : ""}…`,
    );
    results.push(...judge(module.name, await module.run({ quick, soak, tempDir })));
  } finally {
    await Deno.remove(tempDir, { recursive: true });
  }
}

console.log(formatTable(results));
const resultsDir = fileURLToPath(new URL("../bench/results/", import.meta.url));
const path = await writeResults(resultsDir, { startedAt, quick, soak, results });
console.log(`\nresults written to ${path}`);
const missed = results.filter((r) => !r.pass);
const failing = quick ? missed.filter((r) => r.correctness === true) : missed;
if (quick && missed.length > failing.length) {
  console.log(
    `quick run: ${missed.length - failing.length} timing target(s) missed on a smoke-sized ` +
      "workload; run deno task bench (without --quick) to judge them",
  );
}
if (failing.length > 0) Deno.exit(1);
