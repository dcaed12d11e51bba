/**
 * Inclusion and consistency proofs of RFC 9162 sections 2.1.3 and 2.1.4:
 * building them from a store of complete nodes, and verifying them.
 *
 * Builders read only complete nodes (a node (level, index) is complete once all
 * 2^level of its leaves are appended), so a log can answer from what it stored
 * at append time: O(log n) reads per proof. They trust the store's hashes,
 * checking only that each is 32 bytes (`ledger_broken` otherwise), and refuse
 * impossible requests (`parse_error`).
 *
 * Verifiers trust nothing: they follow RFC 9162 sections 2.1.3.2 and 2.1.4.2
 * step by step, never throw (any malformed input is `false`) and compare the
 * computed root with the expected one in constant time.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { constantTimeEqual } from "../crypto/bytes.ts";
import { EMPTY_ROOT, HASH_BYTES, nodeHash } from "./hash.ts";
import { isPowerOfTwo, largestPowerOfTwoAtMost, log2Exact, splitPoint } from "./sizes.ts";

/**
 * Reads the hash of the complete node (level, index), which covers leaves
 * [index·2^level, (index+1)·2^level). May throw (missing node, I/O error).
 */
export type NodeReader = (level: number, index: number) => Uint8Array;

// no tree of at most 2^53 leaves needs more proof hashes than this
const MAX_PROOF_HASHES = 128;

function isSize(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

function checkSize(n: number, what: string): void {
  if (!isSize(n)) {
    throw new SaoeError("parse_error", `Invalid ${what} ${n}: not a safe non-negative integer`);
  }
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.byteLength === HASH_BYTES;
}

function readNode(nodeAt: NodeReader, level: number, index: number): Uint8Array {
  const hash = nodeAt(level, index);
  if (!isHash(hash)) {
    throw new SaoeError(
      "ledger_broken",
      `Node (${level}, ${index}) of the store is not a ${HASH_BYTES}-byte hash`,
    );
  }
  return hash.slice();
}

/**
 * The Merkle Tree Hash of leaves [start, end) from complete nodes only: one
 * read per set bit of end - start. The range must be one the proofs use, i.e.
 * `start` a multiple of the largest power of two at most end - start
 * (`parse_error` otherwise); an empty range hashes to SHA-256("").
 *
 * @example
 * ```ts
 * import { leafHash, nodeHash } from "./hash.ts";
 * import { subtreeRoot } from "./proof.ts";
 * const leaves = [0, 1, 2].map((n) => leafHash(new Uint8Array([n])));
 * const nodes = new Map([["0:2", leaves[2]!], ["1:0", nodeHash(leaves[0]!, leaves[1]!)]]);
 * const root = subtreeRoot(0, 3, (level, index) => nodes.get(`${level}:${index}`)!);
 * if (root.toHex() !== nodeHash(nodes.get("1:0")!, leaves[2]!).toHex()) throw new Error();
 * ```
 */
export function subtreeRoot(start: number, end: number, nodeAt: NodeReader): Uint8Array {
  checkSize(start, "range start");
  checkSize(end, "range end");
  if (start > end) {
    throw new SaoeError("parse_error", `Invalid range [${start}, ${end}): start is after end`);
  }
  if (start === end) return EMPTY_ROOT.slice();
  if (start % largestPowerOfTwoAtMost(end - start) !== 0) {
    throw new SaoeError(
      "parse_error",
      `Invalid range [${start}, ${end}): not aligned to the subtrees of the log`,
    );
  }
  // perfect subtrees of decreasing size, one per set bit of the range's length
  const parts: Uint8Array[] = [];
  for (let at = start; at < end;) {
    const width = largestPowerOfTwoAtMost(end - at);
    parts.push(readNode(nodeAt, log2Exact(width), at / width));
    at += width;
  }
  let hash = parts[parts.length - 1]!;
  for (let i = parts.length - 2; i >= 0; i--) hash = nodeHash(parts[i]!, hash);
  return hash;
}

/**
 * The inclusion proof (audit path) of leaf `index` in the tree of `size`
 * leaves, as RFC 9162 section 2.1.3.1 defines it (deepest sibling first).
 * Refuses an index outside [0, size) with `parse_error`.
 *
 * @example
 * ```ts
 * import { leafHash } from "./hash.ts";
 * import { inclusionProof, verifyInclusion } from "./proof.ts";
 * import { type MerkleNode, MerkleFrontier } from "./tree.ts";
 * const store = new Map<string, Uint8Array>();
 * const tree = new MerkleFrontier();
 * const leaves = [0, 1, 2, 3, 4].map((n) => leafHash(new Uint8Array([n])));
 * for (const leaf of leaves) {
 *   tree.push(leaf).forEach((n: MerkleNode) => store.set(`${n.level}:${n.index}`, n.hash));
 * }
 * const proof = inclusionProof(3, 5, (level, index) => store.get(`${level}:${index}`)!);
 * const ok = verifyInclusion({ leafHash: leaves[3]!, index: 3, size: 5, proof, root: tree.root() });
 * if (!ok) throw new Error();
 * ```
 */
export function inclusionProof(index: number, size: number, nodeAt: NodeReader): Uint8Array[] {
  checkSize(index, "leaf index");
  checkSize(size, "tree size");
  if (index >= size) {
    throw new SaoeError("parse_error", `Invalid leaf index ${index}: the tree has ${size} leaves`);
  }
  const path: Uint8Array[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const mid = start + splitPoint(end - start);
    if (index < mid) {
      path.push(subtreeRoot(mid, end, nodeAt));
      end = mid;
    } else {
      path.push(subtreeRoot(start, mid, nodeAt));
      start = mid;
    }
  }
  return path.reverse();
}

/**
 * The consistency proof between the trees of `oldSize` and `newSize` leaves,
 * as RFC 9162 section 2.1.4.1 defines it; empty when oldSize is 0 or equals
 * newSize. Refuses oldSize > newSize with `parse_error`.
 *
 * @example
 * ```ts
 * import { leafHash } from "./hash.ts";
 * import { consistencyProof, verifyConsistency } from "./proof.ts";
 * import { MerkleFrontier } from "./tree.ts";
 * const store = new Map<string, Uint8Array>();
 * const tree = new MerkleFrontier();
 * const roots: Uint8Array[] = [];
 * for (let i = 0; i < 7; i++) {
 *   for (const n of tree.push(leafHash(new Uint8Array([i])))) store.set(`${n.level}:${n.index}`, n.hash);
 *   roots.push(tree.root());
 * }
 * const proof = consistencyProof(3, 7, (level, index) => store.get(`${level}:${index}`)!);
 * const ok = verifyConsistency({ oldSize: 3, newSize: 7, oldRoot: roots[2]!, newRoot: roots[6]!, proof });
 * if (!ok) throw new Error();
 * ```
 */
export function consistencyProof(
  oldSize: number,
  newSize: number,
  nodeAt: NodeReader,
): Uint8Array[] {
  checkSize(oldSize, "old tree size");
  checkSize(newSize, "new tree size");
  if (oldSize > newSize) {
    throw new SaoeError(
      "parse_error",
      `Invalid consistency request: old size ${oldSize} is larger than new size ${newSize}`,
    );
  }
  if (oldSize === 0 || oldSize === newSize) return [];
  // SUBPROOF(m, D[start:end], b), unrolled; each step appends one hash after the recursion
  const path: Uint8Array[] = [];
  let start = 0;
  let end = newSize;
  let complete = true; // b: the subtree is a complete old tree, so its root need not be sent
  for (;;) {
    const n = end - start;
    const m = oldSize - start;
    if (m === n) {
      if (!complete) path.push(subtreeRoot(start, end, nodeAt));
      break;
    }
    const mid = start + splitPoint(n);
    if (m <= mid - start) {
      path.push(subtreeRoot(mid, end, nodeAt));
      end = mid;
    } else {
      path.push(subtreeRoot(start, mid, nodeAt));
      start = mid;
      complete = false;
    }
  }
  return path.reverse();
}

/** Input of {@linkcode verifyInclusion}. */
export interface InclusionCheck {
  leafHash: Uint8Array;
  index: number;
  size: number;
  proof: readonly Uint8Array[];
  root: Uint8Array;
}

/**
 * Verifies an inclusion proof by RFC 9162 section 2.1.3.2. Never throws:
 * malformed sizes, hashes or proofs are `false`.
 *
 * @example
 * ```ts
 * import { leafHash, nodeHash } from "./hash.ts";
 * import { verifyInclusion } from "./proof.ts";
 * const a = leafHash(new Uint8Array([1]));
 * const b = leafHash(new Uint8Array([2]));
 * const root = nodeHash(a, b);
 * if (!verifyInclusion({ leafHash: b, index: 1, size: 2, proof: [a], root })) throw new Error();
 * if (verifyInclusion({ leafHash: b, index: 0, size: 2, proof: [a], root })) throw new Error();
 * ```
 */
export function verifyInclusion(o: InclusionCheck): boolean {
  try {
    const { leafHash, index, size, proof, root } = o;
    if (!isSize(index) || !isSize(size) || index >= size) return false;
    if (!isHash(leafHash) || !isHash(root) || !Array.isArray(proof)) return false;
    if (proof.length > MAX_PROOF_HASHES || !proof.every(isHash)) return false;
    let fn = index;
    let sn = size - 1;
    let r: Uint8Array = leafHash;
    for (const p of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = nodeHash(p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      } else {
        r = nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return constantTimeEqual(r, root) && sn === 0;
  } catch {
    return false;
  }
}

/** Input of {@linkcode verifyConsistency}. */
export interface ConsistencyCheck {
  oldSize: number;
  newSize: number;
  oldRoot: Uint8Array;
  newRoot: Uint8Array;
  proof: readonly Uint8Array[];
}

/**
 * Verifies a consistency proof by RFC 9162 section 2.1.4.2: equal sizes need
 * an empty proof and equal roots, an old size of 0 an empty proof, an old size
 * above the new one is never consistent. Never throws: malformed input is `false`.
 *
 * @example
 * ```ts
 * import { leafHash, nodeHash } from "./hash.ts";
 * import { verifyConsistency } from "./proof.ts";
 * const [a, b, c] = [1, 2, 3].map((n) => leafHash(new Uint8Array([n])));
 * const oldRoot = nodeHash(a!, b!);
 * const newRoot = nodeHash(oldRoot, c!);
 * if (!verifyConsistency({ oldSize: 2, newSize: 3, oldRoot, newRoot, proof: [c!] })) throw new Error();
 * if (verifyConsistency({ oldSize: 3, newSize: 2, oldRoot, newRoot, proof: [c!] })) throw new Error();
 * ```
 */
export function verifyConsistency(o: ConsistencyCheck): boolean {
  try {
    const { oldSize, newSize, oldRoot, newRoot, proof } = o;
    if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false;
    if (!isHash(oldRoot) || !isHash(newRoot) || !Array.isArray(proof)) return false;
    if (proof.length > MAX_PROOF_HASHES || !proof.every(isHash)) return false;
    if (oldSize === newSize) return proof.length === 0 && constantTimeEqual(oldRoot, newRoot);
    if (oldSize === 0) return proof.length === 0;
    if (proof.length === 0) return false;
    const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
    let fn = oldSize - 1;
    let sn = newSize - 1;
    while (fn % 2 === 1) {
      fn = (fn - 1) / 2;
      sn = Math.floor(sn / 2);
    }
    let fr: Uint8Array = path[0]!;
    let sr: Uint8Array = path[0]!;
    for (const c of path.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      } else {
        sr = nodeHash(sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    const oldOk = constantTimeEqual(fr, oldRoot);
    const newOk = constantTimeEqual(sr, newRoot);
    return oldOk && newOk && sn === 0;
  } catch {
    return false;
  }
}
