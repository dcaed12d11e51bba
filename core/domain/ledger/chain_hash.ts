/**
 * The ledger's hash chain: `hash = SHA-256(prev_hash ‖ record bytes)`, starting
 * from 32 zero bytes. Synchronous (`../../primitives/crypto/sha256.ts`) because
 * appending and verifying hash one record at a time.
 *
 * @module
 */
import { sha256 } from "../../primitives/crypto/sha256.ts";

/** Length of a chain hash in bytes. */
export const HASH_BYTES = 32;

/** The `prev_hash` of record 1. */
export const GENESIS_HASH: Uint8Array<ArrayBuffer> = new Uint8Array(HASH_BYTES);

/**
 * Computes the chain hash of a record from its predecessor's hash and its bytes.
 *
 * @example
 * ```ts
 * import { chainHash, GENESIS_HASH } from "./chain_hash.ts";
 * const h = chainHash(GENESIS_HASH, new TextEncoder().encode("{}"));
 * if (h.byteLength !== 32) throw new Error();
 * ```
 */
export function chainHash(prevHash: Uint8Array, bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return sha256(prevHash, bytes);
}
