/**
 * Small statistics and process helpers shared by the pipeline benchmarks:
 * nearest-rank percentiles, per-hop latencies from audit events, and CPU ticks and
 * resident memory of a process read from `/proc`.
 *
 * @module
 */
import type { AuditEvent } from "../../core/domain/ledger/events.ts";

/**
 * The nearest-rank percentile `p` (0–100) of `values`; `NaN` when empty.
 *
 * @example
 * ```ts
 * import { percentile } from "./_stats.ts";
 * if (percentile([5, 1, 3, 2, 4], 50) !== 3) throw new Error();
 * ```
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Rounds to one decimal for the table. */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * Per-hop latency in ms, by receiving agent: for every envelope, the receiver's
 * `validated.at` minus the sender's `forwarded.at` (reported right before the
 * rename into the receiver's inbox).
 *
 * @example
 * ```ts
 * import { hopLatencies } from "./_stats.ts";
 * const id = "0190c2a4-0000-7000-8000-000000000001";
 * const hops = hopLatencies([
 *   { type: "forwarded", at: "2026-01-01T00:00:00.000Z", agent: "intake", envelope_id: id },
 *   { type: "validated", at: "2026-01-01T00:00:00.004Z", agent: "sanitization", envelope_id: id },
 * ]);
 * if (hops.get("sanitization")?.[0] !== 4) throw new Error();
 * ```
 */
export function hopLatencies(events: readonly AuditEvent[]): Map<string, number[]> {
  const forwardedAt = new Map<string, number>();
  for (const e of events) {
    if (e.type === "forwarded" && e.envelope_id !== undefined) {
      forwardedAt.set(e.envelope_id, Date.parse(e.at));
    }
  }
  const hops = new Map<string, number[]>();
  for (const e of events) {
    if (e.type !== "validated" || e.envelope_id === undefined) continue;
    const sent = forwardedAt.get(e.envelope_id);
    if (sent === undefined) continue;
    const list = hops.get(e.agent) ?? [];
    list.push(Date.parse(e.at) - sent);
    hops.set(e.agent, list);
  }
  return hops;
}

/** User + system CPU ticks of every thread of process `pid` so far (`/proc/<pid>/stat`). */
export async function cpuTicks(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/stat`);
  // the command name may contain spaces and parentheses: fields start after the last ")"
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return Number(fields[11]) + Number(fields[12]);
}

/** Resident memory of process `pid` in MiB (`VmRSS` of `/proc/<pid>/status`). */
export async function residentMiB(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  return match === null ? NaN : round1(Number(match[1]) / 1024);
}

/** Peak resident memory of process `pid` so far, in MiB (`VmHWM` of `/proc/<pid>/status`). */
export async function peakResidentMiB(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(text);
  return match === null ? NaN : round1(Number(match[1]) / 1024);
}

/**
 * Proportional set size of process `pid` in MiB (`Pss` of `/proc/<pid>/smaps_rollup`):
 * its private pages plus its share of pages mapped by several processes (the
 * Deno binary's code is mapped by every agent). Summed over processes, PSS is
 * the memory they use together; summed RSS counts shared pages once per process.
 */
export async function proportionalMiB(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`);
  const match = /^Pss:\s+(\d+) kB$/m.exec(text);
  return match === null ? NaN : round1(Number(match[1]) / 1024);
}

/**
 * Waits until every process in `pids` used no CPU tick during `quietMs` (a tick is
 * 10 ms of CPU time), or `maxMs` passed; returns how long it waited in ms.
 */
export async function waitQuiet(
  pids: readonly number[],
  options: { quietMs: number; maxMs: number },
): Promise<number> {
  const start = performance.now();
  const read = () => Promise.all(pids.map((pid) => cpuTicks(pid)));
  let last = await read();
  let quietSince = performance.now();
  while (performance.now() - start < options.maxMs) {
    await new Promise((r) => setTimeout(r, 10));
    const now = await read();
    if (now.some((v, i) => v !== last[i])) quietSince = performance.now();
    last = now;
    if (performance.now() - quietSince >= options.quietMs) break;
  }
  return performance.now() - start;
}
