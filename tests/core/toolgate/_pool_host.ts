/**
 * Subprocess host for ToolWorkerPool tests: runs with `--unstable-worker-options`
 * (as an agent must) and no permissions but reading the test's tool sources.
 * Reads `{ calls_per_worker?, retire_idle_ms?, steps }` as JSON on stdin, runs
 * the steps against one pool (with those options, default the pool's), and prints a
 * JSON report: each step's result, the warm workers after it, and how many Workers
 * were constructed so far.
 *
 * The pool's own timers (the pre-start delay, the idle retirement) run on a fake
 * clock that only the steps move: after each `run` it is ticked by the pre-start
 * delay, so the report shows the pre-started worker, and `tick` moves it further.
 * A call's time limit runs on real time.
 *
 * Steps: `run` (one call of `tool` with the source `source`; with `signal`, its
 * args carry `{ signal }`, an `Int32Array` on shared memory the tool may set),
 * `wait_ready` (until the tool's warm worker reported its module imported),
 * `wait_gone` (until the tool has no usable warm worker), `wait_signal` (until the
 * tool set `signal[0]` to 1), `tick` (the fake clock), `sleep` (real time).
 *
 * @module
 */
import FakeTimers from "@sinonjs/fake-timers";
import { SaoeError } from "../../../core/primitives/errors.ts";
import {
  DEFAULT_PRESTART_DELAY_MS,
  ToolWorkerPool,
} from "../../../core/domain/toolgate/worker_pool.ts";

/** One step of a scenario. */
export type PoolStep =
  | {
    op: "run";
    tool: string;
    source: string;
    input?: string;
    timeout_ms?: number;
    signal?: boolean;
  }
  | { op: "wait_ready"; tool: string }
  | { op: "wait_gone"; tool: string }
  | { op: "wait_signal" }
  | { op: "tick"; ms: number }
  | { op: "sleep"; ms: number };

/** What the host reports for one step. */
export interface PoolStepReport {
  /** `Date.now()` when the step started. */
  started: number;
  ok?: boolean;
  /** The tool's output decoded as UTF-8 JSON, for `run` steps that succeeded. */
  output?: unknown;
  code?: string;
  message?: string;
  warm: { tool: string; sha256: string; state: string; served: number }[];
  spawned: number;
}

let spawned = 0;
const OriginalWorker = globalThis.Worker;
globalThis.Worker = class extends OriginalWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    spawned++;
    super(url, options);
  }
};

if (import.meta.main) {
  const { steps, calls_per_worker, retire_idle_ms } = JSON.parse(
    await new Response(Deno.stdin.readable).text(),
  ) as { steps: PoolStep[]; calls_per_worker?: number; retire_idle_ms?: number };
  const clock = FakeTimers.createClock();
  const pool = new ToolWorkerPool({
    ...(calls_per_worker === undefined ? {} : { callsPerWorker: calls_per_worker }),
    ...(retire_idle_ms === undefined ? {} : { retireIdleMs: retire_idle_ms }),
    timers: clock,
  });
  const signal = new Int32Array(new SharedArrayBuffer(4));
  /** Checks `done` until it holds; a step that waits longer than 10 s fails the host. */
  const until = async (done: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      // paces the checks of the condition above, which ends the wait
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const reports: PoolStepReport[] = [];
  for (const step of steps) {
    const report: Partial<PoolStepReport> = { started: Date.now() };
    if (step.op === "run") {
      try {
        const output = await pool.run({
          tool: step.tool,
          module: new TextEncoder().encode(step.source),
          args: step.signal === true ? { signal } : {},
          input: new TextEncoder().encode(step.input ?? ""),
          timeoutMs: step.timeout_ms ?? 10_000,
        });
        report.ok = true;
        report.output = JSON.parse(new TextDecoder().decode(output.bytes));
      } catch (err: unknown) {
        if (!(err instanceof SaoeError)) throw err;
        report.ok = false;
        report.code = err.code;
        report.message = err.message;
      }
    } else if (step.op === "wait_ready") {
      await until(
        () => pool.warm().some((w) => w.tool === step.tool && w.state === "ready"),
        `a ready worker for ${step.tool}`,
      );
    } else if (step.op === "wait_gone") {
      await until(
        () => !pool.warm().some((w) => w.tool === step.tool),
        `${step.tool}'s warm worker to go`,
      );
    } else if (step.op === "wait_signal") {
      await until(() => Atomics.load(signal, 0) === 1, "the tool's signal");
    } else if (step.op === "tick") {
      clock.tick(step.ms);
    } else {
      // real time passes (a tool's Date.now() moves on); the fake clock does not
      await new Promise((r) => setTimeout(r, step.ms));
    }
    // the next worker is pre-started off the call's return path, on a timer: tick it
    if (step.op === "run") clock.tick(DEFAULT_PRESTART_DELAY_MS);
    reports.push({ ...report, warm: pool.warm(), spawned } as PoolStepReport);
  }
  console.log(JSON.stringify({ reports, stopped: pool.stopped }));
  // a timed-out worker may still spin (Deno's terminate cannot stop a busy loop): exit explicitly
  Deno.exit(0);
}
