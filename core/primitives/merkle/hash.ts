/**
 * The RFC 6962 / RFC 9162 (section 2.1) Merkle tree hashes: a leaf is
 * SHA-256(0x00 ‖ data), an interior node SHA-256(0x01 ‖ left ‖ right), the
 * empty tree SHA-256(""). The distinct prefixes keep a leaf from ever being read
 * as a node (second-preimage resistance). This module decides nothing and trusts
 * nothing: it hashes exactly the bytes it is given.
 *
 * Hashing is synchronous (node:crypto) because the ledger hashes on its append
 * path: one reused scratch buffer carries the prefix, so a node hash allocates
 * only its 32-byte result.
 *
 * @module
 */
import { createHash, hash } from "node:crypto";

/** Length of every Merkle tree hash in bytes (SHA-256). */
export const HASH_BYTES = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
// leaves up to this size are hashed through the scratch buffer in one call
const SCRATCH_BYTES = 4096;
const scratch = new Uint8Array(1 + SCRATCH_BYTES);

function digest(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = hash("sha256", bytes, "buffer") as Uint8Array;
  // a plain Uint8Array view (not a Buffer) over the digest's own 32 bytes
  if (out.byteOffset === 0 && out.buffer.byteLength === HASH_BYTES) {
    return new Uint8Array(out.buffer as ArrayBuffer, 0, HASH_BYTES);
  }
  return Uint8Array.from(out);
}

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
export const EMPTY_ROOT: Uint8Array<ArrayBuffer> = digest(new Uint8Array(0));

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
  if (data.byteLength <= SCRATCH_BYTES) {
    scratch[0] = LEAF_PREFIX;
    scratch.set(data, 1);
    return digest(scratch.subarray(0, 1 + data.byteLength));
  }
  return Uint8Array.from(
    createHash("sha256").update(Uint8Array.of(LEAF_PREFIX)).update(data).digest(),
  );
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
  const length = 1 + left.byteLength + right.byteLength;
  if (length <= scratch.byteLength) {
    scratch[0] = NODE_PREFIX;
    scratch.set(left, 1);
    scratch.set(right, 1 + left.byteLength);
    return digest(scratch.subarray(0, length));
  }
  const h = createHash("sha256").update(Uint8Array.of(NODE_PREFIX));
  return Uint8Array.from(h.update(left).update(right).digest());
}
