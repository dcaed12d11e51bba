/**
 * Hashing, encodings, constant-time comparison and Ed25519.
 *
 * @module
 */
export * from "./bytes.ts";
export * from "./ed25519.ts";
