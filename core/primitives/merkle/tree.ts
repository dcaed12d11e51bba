/**
 * Merkle tree heads of RFC 9162 section 2.1.1: {@linkcode rootOf} computes the
 * Merkle Tree Hash (MTH) of a list, {@linkcode MerkleFrontier} keeps the compact
 * range of a growing log (the roots of the perfect subtrees that cover it, one
 * per set bit of its size) so that appending a leaf costs O(1) amortised hashes
 * and the root is always at hand.
 *
 * The frontier trusts the hashes it is given at construction to be the ones the
 * store recorded (it checks their number and length only); everything it returns
 * is a copy, so a caller cannot alter its state through a returned array.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { EMPTY_ROOT, HASH_BYTES, nodeHash } from "./hash.ts";
import { popCount, splitPoint } from "./sizes.ts";

/**
 * A complete node of the tree: (level, index) covers the leaves
 * [index·2^level, (index+1)·2^level). Level 0 is a leaf hash.
 */
export interface MerkleNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

function checkHash(hash: Uint8Array, what: string): void {
  if (!(hash instanceof Uint8Array) || hash.byteLength !== HASH_BYTES) {
    throw new SaoeError("parse_error", `Invalid ${what}: expected a ${HASH_BYTES}-byte hash`);
  }
}

/**
 * The Merkle Tree Hash of a list of leaf hashes, by the recursive definition of
 * RFC 9162 section 2.1.1 (for tests and small trees: O(n) hashes).
 *
 * @example
 * ```ts
 * import { leafHash, nodeHash } from "./hash.ts";
 * import { rootOf } from "./tree.ts";
 * const [a, b, c] = [1, 2, 3].map((n) => leafHash(new Uint8Array([n])));
 * const want = nodeHash(nodeHash(a!, b!), c!);
 * if (rootOf([a!, b!, c!]).toHex() !== want.toHex()) throw new Error();
 * ```
 */
export function rootOf(leafHashes: readonly Uint8Array[]): Uint8Array {
  leafHashes.forEach((h, i) => checkHash(h, `leaf hash ${i}`));
  if (leafHashes.length === 0) return EMPTY_ROOT.slice();
  const mth = (start: number, end: number): Uint8Array => {
    if (end - start === 1) return leafHashes[start]!.slice();
    const k = splitPoint(end - start);
    return nodeHash(mth(start, start + k), mth(start + k, end));
  };
  return mth(0, leafHashes.length);
}

/**
 * The compact range of an append-only log: the roots of the perfect subtrees
 * covering leaves [0, size), largest first.
 *
 * @example
 * ```ts
 * import { leafHash } from "./hash.ts";
 * import { MerkleFrontier, rootOf } from "./tree.ts";
 * const leaves = [0, 1, 2].map((n) => leafHash(new Uint8Array([n])));
 * const tree = new MerkleFrontier();
 * for (const leaf of leaves) tree.push(leaf);
 * if (tree.root().toHex() !== rootOf(leaves).toHex()) throw new Error();
 * const resumed = new MerkleFrontier(tree.size, tree.frontier());
 * if (resumed.root().toHex() !== tree.root().toHex()) throw new Error();
 * ```
 */
export class MerkleFrontier {
  #size: number;
  #frontier: Uint8Array[];

  /**
   * Resumes a log of `size` leaves from its frontier (one hash per set bit of
   * `size`, largest subtree first). Refuses a size that is not a safe
   * non-negative integer and a frontier of the wrong shape (`parse_error`).
   */
  constructor(size = 0, frontier: readonly Uint8Array[] = []) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new SaoeError(
        "parse_error",
        `Invalid tree size ${size}: not a safe non-negative integer`,
      );
    }
    const want = popCount(size);
    if (frontier.length !== want) {
      throw new SaoeError(
        "parse_error",
        `Invalid frontier for tree size ${size}: expected ${want} subtree roots, got ${frontier.length}`,
      );
    }
    frontier.forEach((h, i) => checkHash(h, `frontier hash ${i}`));
    this.#size = size;
    this.#frontier = frontier.map((h) => h.slice());
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends a leaf hash and returns every node this append completed: the leaf
   * at level 0, then each parent that became complete, lowest first.
   * Refuses a hash that is not 32 bytes (`parse_error`) and an append beyond
   * 2^53 - 1 leaves (`size_exceeded`).
   */
  push(leafHash: Uint8Array): MerkleNode[] {
    checkHash(leafHash, "leaf hash");
    if (this.#size >= Number.MAX_SAFE_INTEGER) {
      throw new SaoeError("size_exceeded", "Cannot append: the log already holds 2^53 - 1 leaves");
    }
    let hash: Uint8Array = leafHash.slice();
    let index = this.#size;
    let level = 0;
    const nodes: MerkleNode[] = [{ level, index, hash }];
    // each trailing set bit of the old size is a subtree the new leaf completes
    while (index % 2 === 1) {
      hash = nodeHash(this.#frontier.pop()!, hash);
      index = (index - 1) / 2;
      level++;
      nodes.push({ level, index, hash });
    }
    // the returned nodes are the caller's: keep a copy of the new subtree root
    this.#frontier.push(hash.slice());
    this.#size++;
    return nodes;
  }

  /** The root hash of the current tree (SHA-256("") when empty). */
  root(): Uint8Array {
    const f = this.#frontier;
    if (f.length === 0) return EMPTY_ROOT.slice();
    let hash: Uint8Array = f[f.length - 1]!.slice();
    for (let i = f.length - 2; i >= 0; i--) hash = nodeHash(f[i]!, hash);
    return hash;
  }

  /** Copies of the subtree roots covering [0, size), largest first. */
  frontier(): Uint8Array[] {
    return this.#frontier.map((h) => h.slice());
  }
}
