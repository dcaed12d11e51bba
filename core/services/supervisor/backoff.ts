/**
 * Restart delays of a crashed agent: exponential backoff from 0.5 s doubling to
 * 30 s, reset once the agent had stayed up for a minute. A pure function, so the
 * supervisor's restart policy is tested without waiting.
 *
 * @module
 */

/** First restart delay. */
export const BACKOFF_INITIAL_MS = 500;
/** Longest restart delay. */
export const BACKOFF_MAX_MS = 30_000;
/** An agent that stayed up this long starts again from the first delay. */
export const BACKOFF_RESET_AFTER_MS = 60_000;

/**
 * The delay before the next restart, from the previous delay (`undefined` before
 * the first restart) and how long the agent ran before it exited.
 *
 * @example
 * ```ts
 * import { nextBackoffMs } from "./backoff.ts";
 * if (nextBackoffMs(undefined, 10) !== 500) throw new Error();
 * if (nextBackoffMs(500, 10) !== 1000) throw new Error();
 * if (nextBackoffMs(16_000, 10) !== 30_000) throw new Error();
 * if (nextBackoffMs(30_000, 61_000) !== 500) throw new Error();
 * ```
 */
export function nextBackoffMs(previousMs: number | undefined, uptimeMs: number): number {
  if (previousMs === undefined || uptimeMs >= BACKOFF_RESET_AFTER_MS) return BACKOFF_INITIAL_MS;
  return Math.min(Math.max(previousMs, BACKOFF_INITIAL_MS) * 2, BACKOFF_MAX_MS);
}
