/**
 * The hash-chained audit ledger: events, the single writer, checkpoints and
 * verification.
 *
 * @module
 */
export * from "./events.ts";
export * from "./chain_hash.ts";
export * from "./checkpoint.ts";
export * from "./ledger.ts";
export * from "./verify.ts";
export * from "./writer_lock.ts";
