/**
 * Fixed lengths of time in milliseconds, defined once for the whole product
 * (validity windows in days, key lifetimes, expiry warnings).
 *
 * @module
 */

/**
 * One day in milliseconds (24 hours; validity windows ignore leap seconds and
 * daylight saving, as RFC 3339 UTC timestamps do).
 *
 * @example
 * ```ts
 * import { DAY_MS } from "./durations.ts";
 * if (new Date(Date.UTC(2026, 0, 1) + 90 * DAY_MS).toISOString() !== "2026-04-01T00:00:00.000Z") {
 *   throw new Error();
 * }
 * ```
 */
export const DAY_MS = 86_400_000;
