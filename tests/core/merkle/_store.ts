/**
 * Test support for the Merkle tests: an in-memory store of complete nodes fed
 * by {@linkcode MerkleFrontier.push} (one flat buffer per level, so a store of a
 * million leaves stays small), trees built from generated leaves, a seeded
 * random generator and proof mutations.
 *
 * @module
 */
import { HASH_BYTES, leafHash } from "../../../core/primitives/merkle/hash.ts";
import type { NodeReader } from "../../../core/primitives/merkle/proof.ts";
import { MerkleFrontier, type MerkleNode } from "../../../core/primitives/merkle/tree.ts";

/** Complete nodes by (level, index), as a ledger would store them at append time. */
export class MemoryNodeStore {
  #levels: Uint8Array[] = [];
  #counts: number[] = [];

  /** Records nodes returned by `MerkleFrontier.push` (indexes arrive in order). */
  add(nodes: readonly MerkleNode[]): void {
    for (const { level, index, hash } of nodes) {
      let buf = this.#levels[level] ?? new Uint8Array(HASH_BYTES * 16);
      const count = this.#counts[level] ?? 0;
      if (index !== count) throw new Error(`node (${level}, ${index}) out of order`);
      if ((count + 1) * HASH_BYTES > buf.byteLength) {
        const grown = new Uint8Array(buf.byteLength * 2);
        grown.set(buf);
        buf = grown;
      }
      buf.set(hash, count * HASH_BYTES);
      this.#levels[level] = buf;
      this.#counts[level] = count + 1;
    }
  }

  /** The reader the proof builders take; throws for a node never stored. */
  readonly nodeAt: NodeReader = (level, index) => {
    const count = this.#counts[level] ?? 0;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new Error(`node (${level}, ${index}) is not stored`);
    }
    return this.#levels[level]!.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);
  };
}

/** A tree built by appending leaves, with its store and the root after each append. */
export interface BuiltTree {
  leaves: Uint8Array[];
  store: MemoryNodeStore;
  /** roots[s] is the root of the first s leaves (roots[0] the empty root). */
  roots: Uint8Array[];
}

/** Leaf hashes of the byte strings "leaf 0", "leaf 1", … */
export function generatedLeaves(count: number): Uint8Array[] {
  const enc = new TextEncoder();
  return Array.from({ length: count }, (_, i) => leafHash(enc.encode(`leaf ${i}`)));
}

/** Appends `leaves` to a fresh frontier, storing every completed node. */
export function buildTree(leaves: Uint8Array[]): BuiltTree {
  const tree = new MerkleFrontier();
  const store = new MemoryNodeStore();
  const roots = [tree.root()];
  for (const leaf of leaves) {
    store.add(tree.push(leaf));
    roots.push(tree.root());
  }
  return { leaves, store, roots };
}

/** A deterministic generator (mulberry32) so a failure can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy of `bytes` with bit `bit` flipped. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** Every way the tests corrupt a proof: each element flipped, then shortened, lengthened and reordered. */
export function corruptedProofs(
  proof: readonly Uint8Array[],
  extra: Uint8Array,
): { what: string; proof: Uint8Array[] }[] {
  const out: { what: string; proof: Uint8Array[] }[] = [];
  proof.forEach((_, i) => {
    const bit = (i * 67 + 5) % 256; // a different bit of each element, first to last byte
    out.push({
      what: `bit ${bit} of element ${i} flipped`,
      proof: proof.map((h, j) => (j === i ? flipBit(h, bit) : h)),
    });
  });
  if (proof.length > 0) {
    out.push({ what: "last element removed", proof: proof.slice(0, -1) });
    out.push({ what: "first element removed", proof: proof.slice(1) });
  }
  out.push({ what: "an element appended", proof: [...proof, extra] });
  out.push({ what: "an element prepended", proof: [extra, ...proof] });
  if (proof.length > 0) {
    out.push({ what: "last element repeated", proof: [...proof, proof.at(-1)!] });
  }
  for (let i = 0; i + 1 < proof.length; i++) {
    const swapped = [...proof];
    [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
    out.push({ what: `elements ${i} and ${i + 1} swapped`, proof: swapped });
  }
  return out;
}
