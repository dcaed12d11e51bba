/**
 * Per-sender quota over a true sliding window (validation step 13): a sender may
 * have at most `limitPerMinute` envelopes accepted in any 60-second interval.
 * The store keeps the timestamps of accepted events, not fixed buckets, so a
 * burst at the end of one minute and the start of the next cannot double the
 * rate. Memory is bounded: at most `limitPerMinute` timestamps per sender (a
 * refused event records nothing).
 *
 * @module
 */

/** Length of the sliding window in milliseconds. */
export const QUOTA_WINDOW_MS = 60_000;

/** Where the validator counts accepted envelopes per sender. */
export interface QuotaStore {
  /**
   * Records one event for `sender` at `nowMs` and returns `true` if fewer than
   * `limitPerMinute` events were accepted in the 60 s before it; otherwise
   * records nothing and returns `false`.
   */
  take(sender: string, nowMs: number, limitPerMinute: number): boolean;
}

/**
 * A ring buffer of the accepted timestamps of one sender, oldest first. It grows
 * by doubling up to `limit` entries, so a high limit costs memory only when used.
 */
class Window {
  readonly limit: number;
  #times: Float64Array;
  #head = 0;
  #count = 0;

  constructor(limit: number) {
    this.limit = limit;
    this.#times = new Float64Array(Math.min(limit, 16));
  }

  get count(): number {
    return this.#count;
  }

  /** Drops the timestamps that left the window ending at `nowMs`. */
  expire(nowMs: number): void {
    while (this.#count > 0 && nowMs - this.#times[this.#head]! >= QUOTA_WINDOW_MS) {
      this.#head = (this.#head + 1) % this.#times.length;
      this.#count--;
    }
  }

  /** Appends `nowMs`; the caller guarantees `count < limit`. */
  push(nowMs: number): void {
    if (this.#count === this.#times.length) {
      const grown = new Float64Array(Math.min(this.limit, this.#times.length * 2));
      grown.set(this.newest(this.#count));
      this.#times = grown;
      this.#head = 0;
    }
    this.#times[(this.#head + this.#count) % this.#times.length] = nowMs;
    this.#count++;
  }

  /** The newest `n` timestamps, oldest first (to resize when a limit changes). */
  newest(n: number): number[] {
    const out: number[] = [];
    for (let i = Math.max(0, this.#count - n); i < this.#count; i++) {
      out.push(this.#times[(this.#head + i) % this.#times.length]!);
    }
    return out;
  }
}

/**
 * An in-memory sliding-window quota.
 *
 * @example
 * ```ts
 * import { MemoryQuotaStore } from "./quota_store.ts";
 * const quota = new MemoryQuotaStore();
 * const ok = [0, 1, 2].map((t) => quota.take("planner", t, 2));
 * if (ok.join() !== "true,true,false") throw new Error("unexpected");
 * if (!quota.take("planner", 60_000, 2)) throw new Error("unexpected");
 * ```
 */
export class MemoryQuotaStore implements QuotaStore {
  #windows = new Map<string, Window>();

  /** Takes one unit of `sender`'s quota at `nowMs` if the window has room. */
  take(sender: string, nowMs: number, limitPerMinute: number): boolean {
    if (!Number.isSafeInteger(limitPerMinute) || limitPerMinute < 1) {
      throw new RangeError(`Invalid quota limit ${limitPerMinute}: expected a positive integer`);
    }
    if (!Number.isFinite(nowMs)) throw new RangeError(`Invalid time ${nowMs}: expected finite`);
    let window = this.#windows.get(sender);
    if (window === undefined || window.limit !== limitPerMinute) {
      // a changed limit keeps the newest events that fit: never more than the limit in memory
      const kept = window?.newest(limitPerMinute) ?? [];
      window = new Window(limitPerMinute);
      for (const t of kept) window.push(t);
      this.#windows.set(sender, window);
    }
    window.expire(nowMs);
    if (window.count >= limitPerMinute) return false;
    window.push(nowMs);
    return true;
  }

  /** Timestamps currently held for `sender` (for tests and status output). */
  held(sender: string): number {
    return this.#windows.get(sender)?.count ?? 0;
  }
}
