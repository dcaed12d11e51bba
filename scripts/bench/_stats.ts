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

/**
 * `pid` and every process below it. An agent's pid is its sandbox's outer
 * bubblewrap; the Deno process that does the work is its grandchild, so every
 * figure here is taken over the whole tree (`tree = false`: the process alone,
 * for the supervisor, whose tree holds every agent).
 */
export async function processTree(pid: number): Promise<number[]> {
  const out: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop()!;
    out.push(next);
    let tasks: string[];
    try {
      tasks = (await Array.fromAsync(Deno.readDir(`/proc/${next}/task`))).map((t) => t.name);
    } catch {
      continue; // exited meanwhile
    }
    for (const tid of tasks) {
      const children = await Deno.readTextFile(`/proc/${next}/task/${tid}/children`).catch(() =>
        ""
      );
      for (const child of children.trim().split(/\s+/)) {
        if (child !== "") pending.push(Number(child));
      }
    }
  }
  return out;
}

async function ownTicks(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  if (text === "") return 0;
  // the command name may contain spaces and parentheses: fields start after the last ")"
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return Number(fields[11]) + Number(fields[12]);
}

async function statusKiB(pid: number, field: string): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** User + system CPU ticks of every thread of every process of `pid`'s tree so far. */
export async function cpuTicks(pid: number, tree = true): Promise<number> {
  let sum = 0;
  for (const p of tree ? await processTree(pid) : [pid]) sum += await ownTicks(p);
  return sum;
}

/** Resident memory of `pid`'s process tree in MiB (`VmRSS` summed). */
export async function residentMiB(pid: number, tree = true): Promise<number> {
  let kib = 0;
  for (const p of tree ? await processTree(pid) : [pid]) kib += await statusKiB(p, "VmRSS");
  return round1(kib / 1024);
}

/**
 * Peak resident memory of the largest process of `pid`'s tree so far, in MiB
 * (`VmHWM`): the agent's Deno process (the bubblewrap processes around it
 * hold about 2 MiB).
 */
export async function peakResidentMiB(pid: number, tree = true): Promise<number> {
  let kib = 0;
  for (const p of tree ? await processTree(pid) : [pid]) {
    kib = Math.max(kib, await statusKiB(p, "VmHWM"));
  }
  return round1(kib / 1024);
}

/**
 * Proportional set size of `pid`'s process tree in MiB (`Pss` of `/proc/<pid>/smaps_rollup`):
 * its private pages plus its share of pages mapped by several processes (the
 * Deno binary's code is mapped by every agent). Summed over processes, PSS is
 * the memory they use together; summed RSS counts shared pages once per process.
 */
export async function proportionalMiB(pid: number, tree = true): Promise<number> {
  let kib = 0;
  for (const p of tree ? await processTree(pid) : [pid]) {
    const text = await Deno.readTextFile(`/proc/${p}/smaps_rollup`).catch(() => "");
    const match = /^Pss:\s+(\d+) kB$/m.exec(text);
    if (match !== null) kib += Number(match[1]);
  }
  return round1(kib / 1024);
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
