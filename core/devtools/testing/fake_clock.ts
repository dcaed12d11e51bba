/**
 * A settable clock for tests that expire statements without waiting.
 *
 * @module
 */
import type { Clock } from "../../primitives/time/clock.ts";

/**
 * A clock that only moves when told to.
 *
 * @example
 * ```ts
 * import { FakeClock } from "./fake_clock.ts";
 * const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
 * clock.advance(1000);
 * if (clock.now() !== Date.parse("2026-01-01T00:00:01Z")) throw new Error();
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  /** Starts at `start` epoch milliseconds. */
  constructor(start: number) {
    this.#now = start;
  }
  /** Current fake time. */
  now(): number {
    return this.#now;
  }
  /** Moves the clock forward (or back, with a negative value). */
  advance(ms: number): void {
    this.#now += ms;
  }
  /** Sets the clock. */
  set(ms: number): void {
    this.#now = ms;
  }
}
