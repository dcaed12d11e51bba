/**
 * Waiting for an event with a deadline, the one way tests wait: a condition is
 * checked until it holds, and a test that would otherwise hang fails after the
 * deadline, naming what it waited for. A test never sleeps for a fixed time to
 * let something happen (or to show that it did not): it waits for the event
 * itself, or for a later one that proves it, or drives time with fake timers.
 *
 * @module
 */

/** How often {@linkcode waitFor} checks its condition by default, in ms. */
export const POLL_MS = 10;

/** Options for {@linkcode waitFor}. */
export interface WaitOptions {
  /** Milliseconds between checks; default {@linkcode POLL_MS}. */
  intervalMs?: number;
}

/**
 * Checks `probe` until it returns something other than `undefined` or `false`,
 * and returns that; throws after `timeoutMs` naming `what`. The probe runs once
 * more at the deadline, so a slow check still gets its last chance.
 *
 * @example
 * ```ts
 * import { waitFor } from "./wait.ts";
 * let done = false;
 * setTimeout(() => (done = true), 1);
 * await waitFor(() => done, 1_000, "the timer");
 * ```
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
  options: WaitOptions = {},
): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const late = Date.now() >= deadline;
    const value = await probe();
    if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
    if (late) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    // paces the checks: the loop ends on the condition or the deadline, never on this pause
    await new Promise((r) => setTimeout(r, options.intervalMs ?? POLL_MS));
  }
}

/**
 * Resolves with `promise`'s value, or rejects once `timeoutMs` passed first
 * (naming `what`); the deadline's timer is always cleared.
 *
 * @example
 * ```ts
 * import { withDeadline } from "./wait.ts";
 * if (await withDeadline(Promise.resolve(7), 1_000, "seven") !== 7) throw new Error();
 * ```
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
