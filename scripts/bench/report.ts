/**
 * Presents benchmark results: a table for people and a JSON record under
 * `bench/results/` (gitignored) for comparing runs.
 *
 * @module
 */
import { join } from "node:path";
import { type BenchResult, meetsTarget } from "./types.ts";

/** A result with its module and verdict, as recorded. */
export interface JudgedResult extends BenchResult {
  module: string;
  pass: boolean;
}

/** Formats the results as an aligned text table with target and PASS/MISS. */
export function formatTable(results: readonly JudgedResult[]): string {
  const fmt = (n: number) => n.toLocaleString("en-US");
  const rows = [
    ["module", "measurement", "value", "target", "verdict"],
    ...results.map((r) => [
      r.module,
      r.name,
      `${fmt(r.value)} ${r.unit}`,
      `${r.higherIsBetter ? ">=" : "<="} ${fmt(r.target)} ${r.unit}`,
      r.informational === true ? "INFO" : r.pass ? "PASS" : "MISS",
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ");
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)]
    .join("\n");
}

/** Judges a module's results against their targets. */
export function judge(module: string, results: readonly BenchResult[]): JudgedResult[] {
  return results.map((r) => ({ ...r, module, pass: meetsTarget(r) }));
}

/** Writes `bench/results/<timestamp>.json` and returns its path. */
export async function writeResults(
  dir: string,
  record: { startedAt: Date; quick: boolean; soak: boolean; results: readonly JudgedResult[] },
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const stamp = record.startedAt.toISOString().replaceAll(":", "-").replace(/\.\d{3}Z$/, "Z");
  const path = join(dir, `${stamp}.json`);
  const body = {
    started_at: record.startedAt.toISOString(),
    quick: record.quick,
    soak: record.soak,
    deno: Deno.version.deno,
    os: Deno.build.os,
    arch: Deno.build.arch,
    results: record.results,
  };
  await Deno.writeTextFile(path, `${JSON.stringify(body, null, 2)}\n`);
  return path;
}
