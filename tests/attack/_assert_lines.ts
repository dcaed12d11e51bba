/**
 * Assertions on `saoe attack` output lines.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { CliRun } from "./_tree.ts";

/** Every stdout line is `BLOCKED: <attack>: …` and the run exited 0. */
export function assertAllBlocked(run: CliRun, attacks: readonly string[]): void {
  const context = `exit ${run.code}\n${run.stdout}\n${run.stderr}`;
  assert.ok(run.lines.length > 0, `no output lines\n${context}`);
  for (const line of run.lines) {
    assert.match(
      line,
      /^BLOCKED: [a-z-]+: .+ — .+ \([a-zA-Z_+]+\)$/,
      `not a BLOCKED line: ${line}`,
    );
  }
  for (const attack of attacks) {
    assert.ok(
      run.lines.some((l) => l.startsWith(`BLOCKED: ${attack}: `)),
      `no line for ${attack}\n${context}`,
    );
  }
  assert.equal(run.code, 0, context);
}

/** The run printed at least one `BREACH: <attack>: …` line and exited 1. */
export function assertBreach(run: CliRun, attack: string): void {
  const context = `exit ${run.code}\n${run.stdout}\n${run.stderr}`;
  assert.ok(
    run.lines.some((l) => l.startsWith(`BREACH: ${attack}: `)),
    `no BREACH line\n${context}`,
  );
  for (const line of run.lines) {
    assert.match(line, /^(BLOCKED|BREACH): /, `unexpected line: ${line}`);
  }
  assert.equal(run.code, 1, context);
}
