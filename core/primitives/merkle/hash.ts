/**
 * The RFC 6962 / RFC 9162 (section 2.1) Merkle tree hashes: a leaf is
 * SHA-256(0x00 ‖ data), an interior node SHA-256(0x01 ‖ left ‖ right), the
 * empty tree SHA-256(""). The distinct prefixes keep a leaf from ever being read
 * as a node (second-preimage resistance). This module decides nothing and trusts
 * nothing: it hashes exactly the bytes it is given.
 *
 * Hashing is synchronous because the ledger hashes on its append and verify
 * paths, one record at a time (see `../crypto/sha256.ts`).
 *
 * @module
 */
import { sha256 as digest } from "../crypto/sha256.ts";

/** Length of every Merkle tree hash in bytes (SHA-256). */
export const HASH_BYTES = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/**
 * SHA-256 of the empty string: the root of the tree with no leaves. Shared:
 * read it, never write to it (this module hands out copies of it).
 *
 * @example
 * ```ts
 * import { EMPTY_ROOT } from "./hash.ts";
 * if (EMPTY_ROOT.toHex() !== "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") {
 *   throw new Error();
 * }
 * ```
 */
export const EMPTY_ROOT: Uint8Array<ArrayBuffer> = digest();

/**
 * The hash of a leaf: SHA-256(0x00 ‖ data).
 *
 * @example
 * ```ts
 * import { leafHash } from "./hash.ts";
 * const h = leafHash(new Uint8Array(0));
 * if (h.toHex() !== "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d") {
 *   throw new Error();
 * }
 * ```
 */
export function leafHash(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return digest(LEAF_PREFIX, data);
}

/**
 * The hash of an interior node: SHA-256(0x01 ‖ left ‖ right). Both children are
 * normally 32-byte hashes; other lengths are hashed as given.
 *
 * @example
 * ```ts
 * import { leafHash, nodeHash } from "./hash.ts";
 * const a = leafHash(new Uint8Array([1]));
 * const b = leafHash(new Uint8Array([2]));
 * if (nodeHash(a, b).toHex() === nodeHash(b, a).toHex()) throw new Error("order must matter");
 * ```
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array<ArrayBuffer> {
  return digest(NODE_PREFIX, left, right);
}
