/**
 * Inclusion and consistency proofs served by the ledger (from its stored Merkle
 * table) verify with the RFC 9162 verifiers of `core/primitives/merkle/proof.ts`
 * against `ledger.root(size)`, for every size of a small ledger and many sizes of
 * a larger one, and those roots are the ones an independent computation over the
 * records' exact bytes gives and the signed checkpoints state.
 */
import assert from "node:assert/strict";
import { leafHash } from "../../../core/primitives/merkle/hash.ts";
import { verifyConsistency, verifyInclusion } from "../../../core/primitives/merkle/proof.ts";
import { rootOf } from "../../../core/primitives/merkle/tree.ts";
import { verifyLedgerCheckpoint } from "../../../core/domain/ledger/checkpoint.ts";
import { type Ledger, openLedger } from "../../../core/domain/ledger/ledger.ts";
import {
  eventBytes,
  ledgerDir,
  newKey,
  openWriter,
  ORIGIN,
  startTestWitness,
  trusted,
  verify,
} from "./_fixtures.ts";

/** A deterministic generator (mulberry32), so a failure replays from its seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The leaf hashes of every record, read back from the ledger. */
function leavesOf(ledger: Ledger): Uint8Array[] {
  const leaves: Uint8Array[] = [];
  for (;;) {
    const batch = ledger.read({ afterSeq: leaves.length, limit: 1000 });
    if (batch.length === 0) return leaves;
    for (const r of batch) leaves.push(leafHash(r.bytes));
  }
}

function assertInclusion(ledger: Ledger, leaves: Uint8Array[], seq: number, size: number): void {
  const proof = ledger.inclusionProof(seq, size);
  const root = ledger.root(size);
  const leaf = leaves[seq - 1]!;
  assert.ok(
    verifyInclusion({ leafHash: leaf, index: seq - 1, size, proof, root }),
    `inclusion of ${seq} in ${size}`,
  );
  // the same proof says nothing about another record or another tree
  if (size > 1) {
    const other = leaves[seq % size]!;
    assert.ok(
      !verifyInclusion({ leafHash: other, index: seq - 1, size, proof, root }),
      `inclusion of ${seq} in ${size} with another leaf`,
    );
  }
  if (size > 1 && seq < size) {
    assert.ok(
      !verifyInclusion({
        leafHash: leaf,
        index: seq - 1,
        size,
        proof,
        root: ledger.root(size - 1),
      }),
      `inclusion of ${seq} in ${size} against the root of ${size - 1}`,
    );
  }
}

function assertConsistency(ledger: Ledger, oldSize: number, newSize: number): void {
  const proof = ledger.consistencyProof(oldSize, newSize);
  const oldRoot = ledger.root(oldSize);
  const newRoot = ledger.root(newSize);
  assert.ok(
    verifyConsistency({ oldSize, newSize, oldRoot, newRoot, proof }),
    `consistency ${oldSize} → ${newSize}`,
  );
  if (oldSize > 0 && oldSize < newSize) {
    // against a root that is not the earlier tree's, the proof fails
    assert.ok(
      !verifyConsistency({ oldSize, newSize, oldRoot: ledger.root(oldSize - 1), newRoot, proof }),
      `consistency ${oldSize} → ${newSize} from the wrong root`,
    );
  }
}

Deno.test("inclusionProof() and consistencyProof() verify against root(size) for every size of a 70-record ledger, across batches and a reopened writer", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    let ledger = await openWriter(d, key);
    // batches of 1, 2, 3, … records, the writer closed and reopened halfway (its frontier
    // is then read back from the stored table)
    for (let n = 1; ledger.head().size < 70; n++) {
      const start = ledger.head().size;
      const count = Math.min(n, 70 - start);
      ledger.append(Array.from({ length: count }, (_, i) => eventBytes(start + i + 1)));
      if (n === 6) {
        ledger.close();
        ledger = await openWriter(d, key);
      }
    }
    const leaves = leavesOf(ledger);
    assert.equal(leaves.length, 70);
    assert.equal(ledger.head().root, rootOf(leaves).toHex());
    for (let size = 0; size <= 70; size++) {
      assert.deepEqual(ledger.root(size), rootOf(leaves.slice(0, size)), `root of ${size}`);
      for (let seq = 1; seq <= size; seq++) assertInclusion(ledger, leaves, seq, size);
      for (let old = 0; old <= size; old++) assertConsistency(ledger, old, size);
    }
    // a reader serves the same proofs as the writer
    const reader = await openLedger({ path: d.path, readOnly: true });
    try {
      assert.deepEqual(reader.inclusionProof(33, 70), ledger.inclusionProof(33, 70));
      assert.deepEqual(reader.consistencyProof(21, 64), ledger.consistencyProof(21, 64));
      assert.deepEqual(reader.root(70), ledger.root(70));
    } finally {
      reader.close();
    }
    ledger.close();
  } finally {
    await d.cleanup();
  }
});

Deno.test("proofs verify for many sizes of a 5,000-record ledger, against the roots its signed and witnessed checkpoints state", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    await using witness = await startTestWitness(d, key);
    const ledger = await openWriter(d, key);
    const checkpointed: number[] = [];
    const random = seededRandom(0x5a0e);
    while (ledger.head().size < 5_000) {
      const start = ledger.head().size;
      const count = Math.min(1 + Math.floor(random() * 400), 5_000 - start);
      ledger.append(Array.from({ length: count }, (_, i) => eventBytes(start + i + 1)));
      const written = await ledger.checkpoint();
      checkpointed.push(written.treeSize);
      assert.equal(await witness.submit(ledger, written), true, witness.logs.join("\n"));
    }
    const leaves = leavesOf(ledger);
    // every checkpoint note states the stored tree's root at its size
    for (const size of checkpointed) {
      const head = await verifyLedgerCheckpoint(ledger.checkpointAt(size)!, {
        origin: ORIGIN,
        logKeys: trusted(key),
      });
      assert.deepEqual(head.root, ledger.root(size), `checkpoint ${size}`);
    }
    const sizes = new Set<number>([1, 2, 3, 4999, 5000, ...checkpointed]);
    for (let p = 1; p <= 4096; p *= 2) [p - 1, p, p + 1].forEach((s) => s > 0 && sizes.add(s));
    while (sizes.size < 120) sizes.add(1 + Math.floor(random() * 5_000));
    for (const size of sizes) {
      assert.deepEqual(ledger.root(size), rootOf(leaves.slice(0, size)), `root of ${size}`);
      const seqs = new Set([1, size, Math.ceil(size / 2)]);
      while (seqs.size < Math.min(size, 8)) seqs.add(1 + Math.floor(random() * size));
      for (const seq of seqs) assertInclusion(ledger, leaves, seq, size);
      const olds = new Set([0, 1, size, size - 1]);
      while (olds.size < Math.min(size + 1, 8)) olds.add(Math.floor(random() * size));
      for (const old of olds) assertConsistency(ledger, old, size);
    }
    // the witnessed head's root, which a verifier trusts, is the root the proofs verify to
    const witnessed = ledger.latestWitnessed()!;
    assert.equal(witnessed.treeSize, 5_000);
    ledger.close();
    const result = await verify(d, key, witness);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.root, rootOf(leaves).toHex());
  } finally {
    await d.cleanup();
  }
});

Deno.test("proofs refuse sizes and records the ledger does not hold", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const ledger = await openWriter(d, key);
    ledger.append(Array.from({ length: 10 }, (_, i) => eventBytes(i + 1)));
    for (
      const bad of [
        () => ledger.root(11),
        () => ledger.root(-1),
        () => ledger.inclusionProof(0, 10),
        () => ledger.inclusionProof(11, 10),
        () => ledger.inclusionProof(5, 11),
        () => ledger.inclusionProof(1.5, 10),
        () => ledger.consistencyProof(6, 5),
        () => ledger.consistencyProof(5, 11),
        () => ledger.consistencyProof(-1, 5),
      ]
    ) assert.throws(bad, RangeError);
    assert.deepEqual(ledger.consistencyProof(0, 10), []);
    assert.deepEqual(ledger.consistencyProof(10, 10), []);
    assert.deepEqual(ledger.inclusionProof(1, 1), []);
    ledger.close();
  } finally {
    await d.cleanup();
  }
});
