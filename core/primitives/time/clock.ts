/**
 * The clock every expiry check reads. Production code uses {@linkcode systemClock};
 * tests inject a {@linkcode FakeClock} (see `core/devtools/testing/`) to expire statements.
 *
 * @module
 */

/** A source of the current time in milliseconds since the epoch. */
export interface Clock {
  /** Current time in milliseconds since the Unix epoch. */
  now(): number;
}

/** The real wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Default allowed clock skew between signer and verifier: 2 minutes. */
export const DEFAULT_SKEW_MS = 120_000;
