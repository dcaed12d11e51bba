/**
 * Login attempt limiting: failed logins are counted over a sliding minute per
 * client address and per claimed credential id (the `saoe_<id>_…` prefix of
 * what was typed), and once either count reaches its limit every further
 * attempt is refused with 429 and `Retry-After` before the credential is even
 * hashed. Guessing a 256-bit secret is hopeless anyway; the limit keeps a
 * guessing loop from filling the audit ledger and burning CPU.
 *
 * @module
 */
import type { Clock } from "../../../primitives/time/clock.ts";

/** Failed logins allowed per client address per minute. */
export const LOGIN_FAILURES_PER_ADDRESS = 20;
/** Failed logins allowed per claimed credential id per minute. */
export const LOGIN_FAILURES_PER_CREDENTIAL = 5;
const WINDOW_MS = 60_000;
const MAX_KEYS = 4096;

/**
 * Sliding-window counts of failed logins.
 *
 * @example
 * ```ts
 * import { LoginLimiter } from "./login_limit.ts";
 * let now = 0;
 * const limiter = new LoginLimiter({ now: () => now });
 * for (let i = 0; i < 5; i++) limiter.failed("127.0.0.1", "ops");
 * if (limiter.retryAfter("127.0.0.1", "ops") !== 60) throw new Error();
 * now = 60_001;
 * if (limiter.retryAfter("127.0.0.1", "ops") !== undefined) throw new Error();
 * ```
 */
export class LoginLimiter {
  readonly #clock: Clock;
  readonly #failures = new Map<string, number[]>();

  /** Creates a limiter with no failures. */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  #recent(key: string): number[] {
    const since = this.#clock.now() - WINDOW_MS;
    const times = (this.#failures.get(key) ?? []).filter((t) => t > since);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }

  #wait(times: number[], limit: number): number | undefined {
    if (times.length < limit) return undefined;
    const waitMs = times[times.length - limit]! + WINDOW_MS - this.#clock.now();
    return Math.max(1, Math.ceil(waitMs / 1000));
  }

  /** Seconds to wait before another attempt is allowed, or `undefined` when allowed now. */
  retryAfter(address: string, claimedId: string): number | undefined {
    const byAddress = this.#wait(this.#recent(`a:${address}`), LOGIN_FAILURES_PER_ADDRESS);
    const byId = this.#wait(this.#recent(`c:${claimedId}`), LOGIN_FAILURES_PER_CREDENTIAL);
    if (byAddress === undefined) return byId;
    return byId === undefined ? byAddress : Math.max(byAddress, byId);
  }

  /** Records a failed attempt. */
  failed(address: string, claimedId: string): void {
    if (this.#failures.size >= MAX_KEYS) {
      // bounded memory: drop the keys whose failures all left the window
      for (const key of [...this.#failures.keys()]) this.#recent(key);
      for (const key of this.#failures.keys()) {
        if (this.#failures.size < MAX_KEYS) break;
        if (key.startsWith("c:")) this.#failures.delete(key);
      }
    }
    const now = this.#clock.now();
    for (const key of [`a:${address}`, `c:${claimedId}`]) {
      this.#failures.set(key, [...this.#recent(key), now]);
    }
  }
}
