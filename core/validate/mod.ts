/**
 * SATL envelopes and their fourteen-step validator, with the replay and quota
 * stores it uses and the ports it needs from the trust, capset and vault modules.
 *
 * @module
 */
export * from "./envelope.ts";
export * from "./ports.ts";
export * from "./quota_store.ts";
export * from "./replay_store.ts";
export * from "./schema_cache.ts";
export * from "./validation_error.ts";
export * from "./validator.ts";
