/**
 * Batches checked event bytes into ledger appends: events are collected for a
 * few milliseconds (or until a batch is full) and written in one transaction, so
 * a burst of events costs one fsync, while a lone event still lands within
 * milliseconds. Order is kept: events are appended in the order they were pushed.
 *
 * @module
 */
import type { Ledger } from "../../domain/ledger/ledger.ts";
import { systemTimers, type TimerHandle, type Timers } from "../../primitives/time/timers.ts";

/** Options for {@linkcode EventBatcher}. */
export interface EventBatcherOptions {
  ledger: Pick<Ledger, "append">;
  /** Longest wait before a pending event is written; default 2 ms. */
  delayMs?: number;
  /** Events per transaction at most; default 256. */
  maxBatch?: number;
  /** Told when an append fails (the events are kept and retried). */
  onError?(err: unknown): void;
  /** The timers of the batching delay and the retry; default the runtime's. */
  timers?: Timers;
}

const RETRY_MS = 1000;

/**
 * Collects events and appends them in batches.
 *
 * @example
 * ```ts
 * import { EventBatcher } from "./event_batcher.ts";
 * const written: Uint8Array[] = [];
 * const batcher = new EventBatcher({ ledger: { append: (e) => (written.push(...e), []) } });
 * batcher.push(new TextEncoder().encode("{}"));
 * batcher.flush();
 * if (written.length !== 1) throw new Error();
 * batcher.close();
 * ```
 */
export class EventBatcher {
  readonly #ledger: Pick<Ledger, "append">;
  readonly #delayMs: number;
  readonly #maxBatch: number;
  readonly #onError: (err: unknown) => void;
  readonly #timers: Timers;
  #pending: Uint8Array[] = [];
  #timer: TimerHandle | undefined;
  #held = 0;
  #closed = false;

  /** Creates a batcher writing to `options.ledger`. */
  constructor(options: EventBatcherOptions) {
    this.#ledger = options.ledger;
    this.#delayMs = options.delayMs ?? 2;
    this.#maxBatch = options.maxBatch ?? 256;
    this.#onError = options.onError ?? (() => {});
    this.#timers = options.timers ?? systemTimers;
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Queues one event's exact bytes. */
  push(bytes: Uint8Array): void {
    if (this.#closed) throw new TypeError("Cannot push an event: the batcher is closed");
    this.#pending.push(bytes);
    if (this.#held > 0) return;
    if (this.#pending.length >= this.#maxBatch) this.flush();
    else this.#schedule(this.#delayMs);
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, ms);
  }

  /** Writes every pending event now; returns false when an append failed. */
  flush(): boolean {
    if (this.#timer !== undefined) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#pending.length > 0) {
      const batch = this.#pending.slice(0, this.#maxBatch);
      try {
        this.#ledger.append(batch);
      } catch (err: unknown) {
        // an audit record is never dropped: keep it and try again
        this.#onError(err);
        if (!this.#closed) this.#schedule(RETRY_MS);
        return false;
      }
      this.#pending.splice(0, batch.length);
    }
    return true;
  }

  /**
   * Writes what is pending, then holds new events back until the returned
   * release is called (so a checkpoint event and its checkpoint stay adjacent).
   */
  hold(): () => void {
    this.flush();
    this.#held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held--;
      if (this.#held === 0 && this.#pending.length > 0) this.#schedule(this.#delayMs);
    };
  }

  /** Flushes and stops; returns false when events could not be written. */
  close(): boolean {
    const ok = this.flush();
    this.#closed = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    return ok;
  }
}
