/**
 * The timers a long-running component schedules with, as an interface, so a test
 * can drive them with a fake clock (`@sinonjs/fake-timers`' `createClock()` has
 * this shape) instead of sleeping and hoping.
 *
 * @module
 */

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** `setTimeout`/`setInterval` and their `clear…` functions. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

/**
 * The runtime's own timers.
 *
 * @example
 * ```ts
 * import { systemTimers } from "./timers.ts";
 * const fired = Promise.withResolvers<void>();
 * systemTimers.setTimeout(() => fired.resolve(), 1);
 * await fired.promise;
 * ```
 */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as number),
};
