/**
 * `deno task bench [--quick] [--soak]`: runs every registered benchmark module
 * (`scripts/bench/registry.ts`), prints a table with each target and PASS/MISS,
 * and records the run in `bench/results/<timestamp>.json`. Exits 1 if a target is
 * missed. `--soak` makes the throughput module push 10,000 articles through the
 * pipeline (judged on none lost and none published twice). Benchmarks are not
 * tests: timings never gate `deno task test`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { BENCH_MODULES } from "./bench/registry.ts";
import { formatTable, judge, type JudgedResult, writeResults } from "./bench/report.ts";

const quick = Deno.args.includes("--quick");
const soak = Deno.args.includes("--soak");
const unknown = Deno.args.filter((a) => a !== "--quick" && a !== "--soak");
if (unknown.length > 0) {
  console.error(`Unknown argument ${unknown[0]}: usage is deno task bench [--quick] [--soak]`);
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
const path = await writeResults(resultsDir, { startedAt, quick, results });
console.log(`\nresults written to ${path}`);
if (results.some((r) => !r.pass)) Deno.exit(1);
