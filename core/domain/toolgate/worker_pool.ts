/**
 * Warm tool workers. Importing a tool's dependencies in a fresh isolate is most
 * of a call's cost (markdown-it alone: ~45 ms of CPU per isolate on a 2-core
 * machine; jsdom, before the tool dropped it, ~350 ms), so the pool keeps, per
 * tool, ONE pre-started Worker that has already imported the tool's verified
 * module bytes. A call takes that worker, hands it the args and input and starts
 * the time limit. When the call answered, the worker waits for the tool's next
 * call, up to `callsPerWorker` calls (default 64); when it failed, timed out or
 * served its share, it is terminated and a fresh one is pre-started in the
 * background. A worker that served calls and then waited `retireIdleMs`
 * (default 5 s) for the next is replaced by a fresh one, so no call's data waits
 * in memory for the next.
 *
 * What a call can leave for the next: the worker entry records every own
 * property of the global scope and of every built-in constructor and prototype
 * after the tool loaded, and compares them before and after every call (a call
 * that changed one fails, its output is discarded and the worker ends; see
 * `worker_entry.ts`); every reply carries its call's id (a late message of an
 * earlier call is a failure, never the next call's answer), a message between
 * calls breaks the worker, a failed call ends it, and a worker is only ever
 * reused for the same tool and module digest. Tools keep no state of their own
 * between calls (reviewed with their pinned bytes). `callsPerWorker: 1`
 * restores one isolate per call (docs/decisions.md, "Tool workers").
 *
 * What it trusts: the bytes it is given were hashed and matched the signed tool
 * manifest by ToolGate immediately before. A worker is only ever pre-started
 * with bytes of such a call (or of {@linkcode ToolWorkerPool.prestart}, whose
 * caller must have verified them), and a warm worker is only used for a call
 * whose bytes have the same SHA-256; a tool whose digest changed drops its warm
 * worker. Workers run with `deno: { permissions: "none" }` from a blob: URL of
 * the in-memory entry source ({@linkcode WORKER_ENTRY_SOURCE}).
 *
 * A tool that times out is terminated, but Deno 2.9's `Worker.terminate()`
 * cannot interrupt a busy loop (denoland/deno#35657): after a timeout the pool
 * drops every warm worker and pre-starts no more; ToolGate then refuses every
 * plan until the agent is restarted.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import { systemTimers, type TimerHandle, type Timers } from "../../primitives/time/timers.ts";
import { readWorkerMessage, type ToolOutput, type ToolRequest } from "./protocol.ts";
import { WORKER_ENTRY_SOURCE } from "./worker_entry.ts";

/** Options of one tool call. */
export interface RunToolOptions {
  /** Tool name, for messages and the warm-worker slot. */
  tool: string;
  /** Exact module bytes whose SHA-256 matched the signed manifest. */
  module: Uint8Array<ArrayBuffer>;
  args: unknown;
  input: Uint8Array;
  /** Time limit; the worker is terminated when it passes. */
  timeoutMs: number;
}

/**
 * A tool exceeded its time limit. Its worker was terminated, but Deno 2.9's
 * `Worker.terminate()` cannot interrupt a busy loop (denoland/deno#35657): the
 * thread may keep spinning until the process exits, so the caller must stop
 * using this process for tools and let it be restarted.
 */
export class ToolTimeoutError extends SaoeError {
  /** Creates the refusal for `tool` after `timeoutMs`. */
  constructor(tool: string, timeoutMs: number) {
    super(
      "tool_timeout",
      `Tool ${tool} failed: it did not finish within ${timeoutMs} ms and was terminated`,
    );
    this.name = "ToolTimeoutError";
  }
}

/** State of a tool's warm worker, as {@linkcode ToolWorkerPool.warm} reports it. */
export interface WarmWorkerInfo {
  tool: string;
  /** Lowercase hex SHA-256 of the module bytes it imported. */
  sha256: string;
  /** `loading` until the worker reported its module imported, then `ready`. */
  state: "loading" | "ready";
  /** Calls it has already answered (0 for a freshly pre-started worker). */
  served: number;
}

/** State of a {@linkcode ToolWorker}. */
type WorkerState = "loading" | "ready" | "busy" | "broken" | "ended";

/** One Worker that serves calls of one tool, one at a time. */
class ToolWorker {
  readonly #worker: Worker;
  #state: WorkerState = "loading";
  /** The entry reported the module imported (and warmed). */
  #loaded = false;
  /** Calls answered successfully so far. */
  #served = 0;
  /** Id of the call in progress (ids start at 1). */
  #callId = 0;
  #settle: ((message: unknown) => void) | undefined;
  #fail: ((message: string) => void) | undefined;

  constructor(entry: string, module: Uint8Array<ArrayBuffer>) {
    this.#worker = new Worker(
      entry,
      { type: "module", deno: { permissions: "none" } } as WorkerOptions,
    );
    this.#worker.onmessage = (event: MessageEvent<unknown>) => this.#message(event.data);
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#error(event.message);
    };
    this.#worker.onmessageerror = () => this.#error("its reply could not be deserialised");
    const load: ToolRequest = { kind: "load", module };
    this.#worker.postMessage(load);
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** True while the worker can take a call. */
  get usable(): boolean {
    return this.#state === "loading" || this.#state === "ready";
  }

  /** Calls this worker answered successfully. */
  get served(): number {
    return this.#served;
  }

  #message(data: unknown): void {
    if (this.#state === "busy") {
      this.#settle?.(data);
      return;
    }
    if (!this.usable) return;
    // between calls only the first "ready" is expected: anything else (a late
    // message of an earlier call, an answer nobody asked for) ends the worker
    let message;
    try {
      message = readWorkerMessage(data);
    } catch {
      this.#break();
      return;
    }
    if ("kind" in message && !this.#loaded) {
      this.#loaded = true;
      this.#state = "ready";
    } else this.#break();
  }

  #error(message: string): void {
    if (this.#state === "busy") this.#fail?.(message);
    else if (this.usable) this.#break();
  }

  /** A worker that misbehaved between calls is never used again: the pool starts another. */
  #break(): void {
    this.#state = "broken";
    this.#worker.terminate();
  }

  /**
   * Runs one call: resolves with the output (the worker is then ready for the
   * next call), rejects with `handler_error` or {@linkcode ToolTimeoutError}
   * (the worker is then terminated).
   */
  call(options: RunToolOptions): Promise<ToolOutput> {
    if (!this.usable) {
      throw new TypeError(`ToolWorker.call() on a worker in state ${this.#state}`);
    }
    this.#state = "busy";
    const id = ++this.#callId;
    return new Promise<ToolOutput>((resolve, reject) => {
      let settled = false;
      const finish = (ok: boolean, action: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#settle = undefined;
        this.#fail = undefined;
        if (ok) {
          this.#served++;
          this.#state = "ready";
        } else this.terminate();
        action();
      };
      const fail = (message: string) =>
        finish(
          false,
          () => reject(new SaoeError("handler_error", `Tool ${options.tool} failed: ${message}`)),
        );
      const timer = setTimeout(
        () => finish(false, () => reject(new ToolTimeoutError(options.tool, options.timeoutMs))),
        options.timeoutMs,
      );
      this.#fail = fail;
      this.#settle = (data: unknown) => {
        let message;
        try {
          message = readWorkerMessage(data);
        } catch (err: unknown) {
          fail(err instanceof Error ? err.message : "malformed reply");
          return;
        }
        // the import finished after the call was handed over: not the reply yet
        if ("kind" in message) {
          if (this.#loaded) fail("it reported ready twice");
          else this.#loaded = true;
          return;
        }
        // a reply to another call (a late message of an earlier one) is never taken as this one's
        if (message.id !== id) fail(`it answered call ${message.id} during call ${id}`);
        // the entry posts "ready" before any output: an earlier "output" came from
        // the tool's own top-level code, not from run()
        else if (message.ok && !this.#loaded) fail("it answered before its module was loaded");
        else if (message.ok) {
          const output = message.output;
          finish(true, () => resolve(output));
        } else fail(message.error);
      };
      const run: ToolRequest = { kind: "run", id, args: options.args, input: options.input };
      this.#worker.postMessage(run);
    });
  }

  /** Ends the worker (idempotent). */
  terminate(): void {
    if (this.#state !== "broken") this.#state = "ended";
    this.#worker.terminate();
  }
}

/** Default of {@linkcode ToolWorkerPoolOptions.callsPerWorker}. */
export const DEFAULT_CALLS_PER_WORKER = 64;

/** Default of {@linkcode ToolWorkerPoolOptions.retireIdleMs}. */
export const DEFAULT_RETIRE_IDLE_MS = 5_000;

/** Default of {@linkcode ToolWorkerPoolOptions.prestartDelayMs}. */
export const DEFAULT_PRESTART_DELAY_MS = 50;

interface Slot {
  sha256: string;
  worker: ToolWorker;
}

/** Options for {@linkcode ToolWorkerPool}. */
export interface ToolWorkerPoolOptions {
  /**
   * Delay between a call's answer and the pre-start of the tool's next worker, in
   * ms; default {@linkcode DEFAULT_PRESTART_DELAY_MS}. Constructing a Worker
   * blocks the host's thread for about 10 ms and the new worker's import then
   * takes a core for a few hundred ms: the delay lets the agent send its result
   * and the next agent handle it first.
   */
  prestartDelayMs?: number;
  /**
   * Successful calls one worker serves before it is replaced by a fresh one;
   * default {@linkcode DEFAULT_CALLS_PER_WORKER}. `1` gives every call a fresh
   * isolate (about 45 ms of CPU per `markdown_to_html` call on this machine).
   */
  callsPerWorker?: number;
  /**
   * A worker that served calls and then waited this long (ms) for its tool's
   * next call is replaced by a freshly pre-started one; default
   * {@linkcode DEFAULT_RETIRE_IDLE_MS}. The heap a tool grew under load (a
   * decoded 1600×1200 image is 7.7 MB) is then returned while the pipeline is
   * idle, and nothing of the last call waits in memory for the next.
   */
  retireIdleMs?: number;
  /**
   * The timers of the pre-start delay and the idle retirement; default the
   * runtime's. A call's time limit always runs on the runtime's own timers: a
   * tool's busy loop takes real time.
   */
  timers?: Timers;
}

/**
 * Runs tool calls in one-shot, no-permission Workers and keeps one warm worker
 * per tool. The host process must run with `--unstable-worker-options`.
 *
 * @example
 * ```ts ignore
 * const pool = new ToolWorkerPool();
 * const output = await pool.run({ tool: "markdown_to_html", module, args: {}, input, timeoutMs: 15_000 });
 * pool.close();
 * ```
 */
export class ToolWorkerPool {
  readonly #slots = new Map<string, Slot>();
  /** Pre-starts and idle retirements scheduled after a call, by tool. */
  readonly #scheduled = new Map<string, TimerHandle>();
  readonly #timers: Timers;
  readonly #delayMs: number;
  readonly #callsPerWorker: number;
  readonly #retireIdleMs: number;
  #entry: string | undefined;
  #stopped = false;
  #closed = false;

  /** Creates an empty pool: nothing is started before the first verified call. */
  constructor(options: ToolWorkerPoolOptions = {}) {
    this.#delayMs = options.prestartDelayMs ?? DEFAULT_PRESTART_DELAY_MS;
    this.#callsPerWorker = options.callsPerWorker ?? DEFAULT_CALLS_PER_WORKER;
    this.#retireIdleMs = options.retireIdleMs ?? DEFAULT_RETIRE_IDLE_MS;
    this.#timers = options.timers ?? systemTimers;
    if (!Number.isSafeInteger(this.#callsPerWorker) || this.#callsPerWorker < 1) {
      throw new RangeError(
        `callsPerWorker must be a positive integer, got ${this.#callsPerWorker}`,
      );
    }
  }

  #entryUrl(): string {
    this.#entry ??= URL.createObjectURL(
      new Blob([WORKER_ENTRY_SOURCE], { type: "application/javascript" }),
    );
    return this.#entry;
  }

  /** True after a tool timed out: the pool pre-starts no more workers. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The warm workers waiting for a call, by tool. */
  warm(): WarmWorkerInfo[] {
    const out: WarmWorkerInfo[] = [];
    for (const [tool, slot] of this.#slots) {
      const state = slot.worker.state;
      if (state === "loading" || state === "ready") {
        out.push({ tool, sha256: slot.sha256, state, served: slot.worker.served });
      }
    }
    return out;
  }

  /**
   * Pre-starts the warm worker of `tool` with `module`, unless one with the same
   * digest is already waiting. Only for bytes whose SHA-256 the caller has just
   * checked against the signed tool manifest: the worker imports them at once.
   */
  async prestart(tool: string, module: Uint8Array<ArrayBuffer>): Promise<void> {
    this.#prestart(tool, module, await sha256Hex(module));
  }

  #prestart(tool: string, module: Uint8Array<ArrayBuffer>, sha256: string): void {
    this.#cancelTimer(tool);
    if (this.#stopped || this.#closed) return;
    const current = this.#slots.get(tool);
    if (current !== undefined) {
      if (current.worker.usable && current.sha256 === sha256) return;
      current.worker.terminate();
    }
    this.#slots.set(tool, { sha256, worker: new ToolWorker(this.#entryUrl(), module) });
  }

  #schedule(tool: string, module: Uint8Array<ArrayBuffer>, sha256: string): void {
    this.#cancelTimer(tool);
    if (this.#stopped || this.#closed) return;
    this.#scheduled.set(
      tool,
      this.#timers.setTimeout(() => {
        this.#scheduled.delete(tool);
        this.#prestart(tool, module, sha256);
      }, this.#delayMs),
    );
  }

  #retireWhenIdle(
    tool: string,
    module: Uint8Array<ArrayBuffer>,
    sha256: string,
    worker: ToolWorker,
  ): void {
    this.#cancelTimer(tool);
    this.#scheduled.set(
      tool,
      this.#timers.setTimeout(() => {
        this.#scheduled.delete(tool);
        if (this.#slots.get(tool)?.worker !== worker) return;
        worker.terminate();
        this.#slots.delete(tool);
        this.#prestart(tool, module, sha256);
      }, this.#retireIdleMs),
    );
  }

  #cancelTimer(tool: string): void {
    const timer = this.#scheduled.get(tool);
    if (timer !== undefined) this.#timers.clearTimeout(timer);
    this.#scheduled.delete(tool);
  }

  /** Drops the warm worker of `tool`, if any. */
  drop(tool: string): void {
    this.#cancelTimer(tool);
    this.#slots.get(tool)?.worker.terminate();
    this.#slots.delete(tool);
  }

  /**
   * Runs one call and returns its output, or throws `handler_error` when the tool
   * fails or replies with something malformed, and {@linkcode ToolTimeoutError}
   * (`tool_timeout`) when it exceeds its time limit. Uses the tool's warm worker
   * when it imported the same bytes, else starts one. A worker that answered is
   * kept for the tool's next call until it served `callsPerWorker` calls; a
   * worker that failed, or served its share, is terminated and a fresh one is
   * pre-started.
   */
  async run(options: RunToolOptions): Promise<ToolOutput> {
    if (this.#closed) throw new TypeError("ToolWorkerPool.run() after close()");
    const sha256 = await sha256Hex(options.module);
    // a call that comes before the scheduled pre-start starts its worker itself
    this.#cancelTimer(options.tool);
    const slot = this.#slots.get(options.tool);
    this.#slots.delete(options.tool);
    let worker: ToolWorker | undefined;
    if (slot !== undefined) {
      if (slot.sha256 === sha256 && slot.worker.usable) worker = slot.worker;
      // another digest (the manifest changed) or a worker that broke while waiting
      else slot.worker.terminate();
    }
    worker ??= new ToolWorker(this.#entryUrl(), options.module);
    try {
      return await worker.call(options);
    } catch (err: unknown) {
      if (err instanceof ToolTimeoutError) this.#stop();
      throw err;
    } finally {
      this.#keepOrReplace(options.tool, options.module, sha256, worker);
    }
  }

  /** After a call: the worker waits for the tool's next call, or a fresh one is pre-started. */
  #keepOrReplace(
    tool: string,
    module: Uint8Array<ArrayBuffer>,
    sha256: string,
    worker: ToolWorker,
  ): void {
    const reusable = worker.usable && worker.served < this.#callsPerWorker &&
      !this.#stopped && !this.#closed && !this.#slots.has(tool);
    if (reusable) {
      this.#slots.set(tool, { sha256, worker });
      this.#retireWhenIdle(tool, module, sha256, worker);
      return;
    }
    worker.terminate();
    if (!this.#slots.get(tool)?.worker.usable) this.#schedule(tool, module, sha256);
  }

  #stop(): void {
    this.#stopped = true;
    for (const tool of new Set([...this.#slots.keys(), ...this.#scheduled.keys()])) this.drop(tool);
  }

  /** Terminates every warm worker; the pool runs no more calls. */
  close(): void {
    this.#stop();
    this.#closed = true;
    if (this.#entry !== undefined) URL.revokeObjectURL(this.#entry);
    this.#entry = undefined;
  }
}
