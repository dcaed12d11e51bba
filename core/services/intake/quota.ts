/**
 * Per-credential request quota over a true sliding window: a request is allowed
 * when fewer than `limit` requests of the same credential were allowed in the
 * last `windowMs`. A refused request is not recorded, so a client that keeps
 * retrying is admitted again exactly when its oldest request leaves the window,
 * which is what `Retry-After` announces.
 *
 * @module
 */
import type { Clock } from "../../primitives/time/clock.ts";
// one quota window for the whole product: the sliding minute the validators count in
import { QUOTA_WINDOW_MS } from "../../domain/validate/quota_store.ts";

/** The outcome of {@linkcode SlidingWindowQuota.take}. */
export type QuotaDecision =
  | { allowed: true }
  | { allowed: false; retryAfterSeconds: number };

/**
 * A sliding-window counter per key, in memory (intake is one process).
 *
 * @example
 * ```ts
 * import { SlidingWindowQuota } from "./quota.ts";
 * let now = 0;
 * const quota = new SlidingWindowQuota({ now: () => now });
 * quota.take("ops", 1);
 * const second = quota.take("ops", 1);
 * if (second.allowed || second.retryAfterSeconds !== 60) throw new Error();
 * now = 60_000;
 * if (!quota.take("ops", 1).allowed) throw new Error();
 * ```
 */
export class SlidingWindowQuota {
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #allowed = new Map<string, number[]>();

  /** Creates a quota with a window of `windowMs` (default 60 s). */
  constructor(clock: Clock, windowMs: number = QUOTA_WINDOW_MS) {
    this.#clock = clock;
    this.#windowMs = windowMs;
  }

  /**
   * Records a request of `key` if fewer than `limit` were allowed in the window;
   * otherwise says how many whole seconds until the oldest one leaves it. The
   * check and the record are one synchronous step, so concurrent requests cannot
   * both take the last slot.
   */
  take(key: string, limit: number): QuotaDecision {
    const now = this.#clock.now();
    const since = now - this.#windowMs;
    const times = (this.#allowed.get(key) ?? []).filter((t) => t > since);
    if (times.length >= limit) {
      this.#allowed.set(key, times);
      const oldest = times[0]!;
      const waitMs = oldest + this.#windowMs - now;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    times.push(now);
    this.#allowed.set(key, times);
    return { allowed: true };
  }
}
