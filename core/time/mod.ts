/**
 * Clocks, timestamps and freshness checks.
 *
 * @module
 */
export * from "./clock.ts";
export * from "./timestamp.ts";
