/**
 * The ledger's Merkle tree in its own database: the complete nodes of the RFC
 * 6962 tree over the records' exact bytes from level {@linkcode MIN_STORED_LEVEL}
 * up, `(level, index) → hash`, written in the same transaction as the records
 * they cover. A lower node spans at most 2^(MIN_STORED_LEVEL - 1) records and is
 * recomputed from them when a proof needs it: storing every node cost two
 * inserts per record, a sixteenth of that buys the same proofs. From it the writer resumes its
 * frontier, and any reader answers a root, an inclusion proof or a consistency
 * proof for any tree size in O(log² n) reads, without trusting the table: every
 * answer verifies against a checkpoint's root or it is worthless.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { SaoeError } from "../../primitives/errors.ts";
import { EMPTY_ROOT, leafHash } from "../../primitives/merkle/hash.ts";
import { MerkleFrontier, type MerkleNode, rootOf } from "../../primitives/merkle/tree.ts";
import {
  consistencyProof,
  inclusionProof,
  type NodeReader,
  subtreeRoot,
} from "../../primitives/merkle/proof.ts";

/** The lowest level of the tree that is stored; lower nodes are recomputed from the records. */
export const MIN_STORED_LEVEL = 4;

/** Reads complete nodes of the tree stored in a ledger database. */
export class MerkleStore {
  readonly #get: StatementSync;
  readonly #records: StatementSync;
  readonly #put: StatementSync | undefined;
  readonly #path: string;

  /** Wraps `db`; `writable` prepares the insert too. */
  constructor(db: DatabaseSync, path: string, writable: boolean) {
    this.#path = path;
    this.#get = db.prepare("SELECT hash FROM merkle WHERE level = ? AND idx = ?");
    this.#records = db.prepare(
      "SELECT seq, bytes FROM records WHERE seq >= ? AND seq <= ? ORDER BY seq",
    );
    this.#put = writable
      ? db.prepare("INSERT INTO merkle(level, idx, hash) VALUES (?, ?, ?)")
      : undefined;
  }

  /** The hash of a complete node; `ledger_broken` when the table lacks it. */
  readonly nodeAt: NodeReader = (level: number, index: number): Uint8Array => {
    if (level < MIN_STORED_LEVEL) return this.#computed(level, index);
    const row = this.#get.get(level, index) as { hash: Uint8Array } | undefined;
    if (row === undefined || !(row.hash instanceof Uint8Array) || row.hash.byteLength !== 32) {
      throw new SaoeError(
        "ledger_broken",
        `Ledger ${this.#path} lacks Merkle node (${level}, ${index}): the tree table is damaged; "saoe audit verify" rebuilds it from the records to compare`,
      );
    }
    return row.hash;
  };

  /** A low node, from the records it spans (at most 2^(MIN_STORED_LEVEL - 1) of them). */
  #computed(level: number, index: number): Uint8Array {
    const width = 2 ** level;
    const first = index * width + 1;
    const rows = this.#records.all(first, first + width - 1) as { seq: number; bytes: unknown }[];
    if (
      rows.length !== width ||
      rows.some((r, i) => r.seq !== first + i || !(r.bytes instanceof Uint8Array))
    ) {
      throw new SaoeError(
        "ledger_broken",
        `Ledger ${this.#path} lacks records ${first} to ${
          first + width - 1
        } for Merkle node (${level}, ${index})`,
      );
    }
    return rootOf(rows.map((r) => leafHash(r.bytes as Uint8Array)));
  }

  /** Stores the nodes a frontier push completed that are kept (inside the caller's transaction). */
  put(nodes: readonly MerkleNode[]): void {
    const put = this.#put;
    if (put === undefined) throw new TypeError("This Merkle store is read-only");
    for (const n of nodes) if (n.level >= MIN_STORED_LEVEL) put.run(n.level, n.index, n.hash);
  }

  /** The frontier of a tree of `size` leaves, read from the stored nodes. */
  frontier(size: number): MerkleFrontier {
    const hashes: Uint8Array[] = [];
    let start = 0;
    for (let level = 52; level >= 0; level--) {
      const width = 2 ** level;
      if (size - start >= width) {
        hashes.push(this.nodeAt(level, start / width));
        start += width;
      }
    }
    return new MerkleFrontier(size, hashes);
  }

  /** The root of the first `size` leaves. */
  root(size: number): Uint8Array {
    return size === 0 ? EMPTY_ROOT : subtreeRoot(0, size, this.nodeAt);
  }

  /** The inclusion proof of leaf `index` (0-based) in the tree of `size` leaves. */
  inclusionProof(index: number, size: number): Uint8Array[] {
    return inclusionProof(index, size, this.nodeAt);
  }

  /** The consistency proof from `oldSize` to `newSize`. */
  consistencyProof(oldSize: number, newSize: number): Uint8Array[] {
    return consistencyProof(oldSize, newSize, this.nodeAt);
  }
}
