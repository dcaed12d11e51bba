/**
 * A small transparency log for the witness tests, built from the real
 * primitives: leaves hashed with `leafHash`, a `MerkleFrontier` that records
 * every complete node (so consistency proofs between any two sizes it has
 * reached can be built), the root at every size, and an Ed25519 log key that
 * signs C2SP checkpoints. `fork()` makes a log with the same key and origin
 * that shares a prefix and then diverges: what a misbehaving log would sign.
 *
 * @module
 */
import { generateSeed, SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { leafHash } from "../../core/primitives/merkle/hash.ts";
import { consistencyProof } from "../../core/primitives/merkle/proof.ts";
import { MerkleFrontier } from "../../core/primitives/merkle/tree.ts";
import { formatCheckpoint } from "../../core/primitives/note/checkpoint.ts";
import {
  formatNote,
  type NoteSignature,
  signNoteEd25519,
} from "../../core/primitives/note/note.ts";
import { encodeVkey } from "../../core/primitives/note/vkey.ts";

/** A log under test. */
export class TestLog {
  readonly origin: string;
  readonly key: SigningKey;
  readonly vkey: string;
  /** Which branch this is, for messages and distinct leaf data. */
  readonly branch: string;
  readonly #tree = new MerkleFrontier();
  readonly #nodes = new Map<string, Uint8Array>();
  readonly #leaves: Uint8Array[] = [];
  /** roots[n] is the root of the tree of size n. */
  readonly #roots: Uint8Array[] = [];

  private constructor(origin: string, key: SigningKey, branch: string) {
    this.origin = origin;
    this.key = key;
    this.branch = branch;
    this.vkey = encodeVkey(origin, 0x01, key.publicKey);
    this.#roots.push(this.#tree.root());
  }

  /** A new empty log with a fresh key. */
  static async create(origin = "log.test/ledger"): Promise<TestLog> {
    return new TestLog(origin, await SigningKey.fromSeed(generateSeed()), "main");
  }

  get size(): number {
    return this.#tree.size;
  }

  #push(leaf: Uint8Array): void {
    for (const n of this.#tree.push(leaf)) this.#nodes.set(`${n.level}:${n.index}`, n.hash);
    this.#leaves.push(leaf);
    this.#roots.push(this.#tree.root());
  }

  /** Appends `n` leaves (distinct per branch). */
  append(n: number): this {
    for (let i = 0; i < n; i++) {
      this.#push(leafHash(new TextEncoder().encode(`${this.branch} leaf ${this.size}`)));
    }
    return this;
  }

  /** A log with the same key and origin, sharing the first `at` leaves, then diverging. */
  fork(at: number, branch: string): TestLog {
    const other = new TestLog(this.origin, this.key, branch);
    for (const leaf of this.#leaves.slice(0, at)) other.#push(leaf);
    return other;
  }

  /** The root of the tree of `size` leaves (the current size by default). */
  root(size = this.size): Uint8Array {
    const root = this.#roots[size];
    if (root === undefined) throw new Error(`the ${this.branch} log never had size ${size}`);
    return root;
  }

  /** The consistency proof from `oldSize` to `newSize` (the current size by default). */
  proof(oldSize: number, newSize = this.size): Uint8Array[] {
    return consistencyProof(oldSize, newSize, (level, index) => {
      const node = this.#nodes.get(`${level}:${index}`);
      if (node === undefined) throw new Error(`no node ${level}:${index}`);
      return node;
    });
  }

  /** The checkpoint text of `size` leaves. */
  checkpointText(size = this.size): string {
    return formatCheckpoint({
      origin: this.origin,
      size,
      rootHash: this.root(size),
      extensions: [],
    });
  }

  /** The signed checkpoint note of `size`, by this log's key (or `key`), with `extra` lines. */
  async checkpoint(
    size = this.size,
    options: { key?: SigningKey; extra?: NoteSignature[] } = {},
  ): Promise<string> {
    const text = this.checkpointText(size);
    const sig = await signNoteEd25519(text, { name: this.origin, key: options.key ?? this.key });
    return formatNote({ text, signatures: [sig, ...(options.extra ?? [])] });
  }
}
