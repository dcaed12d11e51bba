/**
 * Test doubles SAOE ships for its own tests and for developers: a fake clock, and
 * (in later modules) fixture homes and in-memory stores.
 *
 * @module
 */
export * from "./fake_clock.ts";
