import assert from "node:assert/strict";
import {
  consistencyProof,
  inclusionProof,
  verifyConsistency,
  verifyInclusion,
} from "../../../core/primitives/merkle/proof.ts";
import {
  buildTree,
  type BuiltTree,
  corruptedProofs,
  flipBit,
  generatedLeaves,
  seededRandom,
} from "./_store.ts";

const SEED = 0x5a0e;
const EXTRA = new Uint8Array(32).fill(0xab);

function checkInclusion(t: BuiltTree, index: number, size: number): void {
  const proof = inclusionProof(index, size, t.store.nodeAt);
  const leafHash = t.leaves[index]!;
  const root = t.roots[size]!;
  const where = `leaf ${index} of ${size}`;
  assert.ok(verifyInclusion({ leafHash, index, size, proof, root }), where);

  assert.ok(!verifyInclusion({ leafHash: flipBit(leafHash, 7), index, size, proof, root }), where);
  assert.ok(!verifyInclusion({ leafHash, index, size, proof, root: flipBit(root, 200) }), where);
  const otherIndexes = [index + 1, index - 1, index % 4 >= 2 ? index - 2 : index + 2];
  for (const other of otherIndexes.filter((i) => i >= 0 && i < size)) {
    assert.ok(
      !verifyInclusion({ leafHash, index: other, size, proof, root }),
      `${where} as ${other}`,
    );
  }
  // the mutations of verify_test.go: a size of another height (a size one off
  // can share the proof's shape, and only the signed tree head binds it to the root)
  for (const other of [size * 2, Math.floor(size / 2)]) {
    if (other === size || other <= index) continue;
    assert.ok(
      !verifyInclusion({ leafHash, index, size: other, proof, root }),
      `${where} in ${other}`,
    );
  }
  for (const bad of corruptedProofs(proof, EXTRA)) {
    assert.ok(
      !verifyInclusion({ leafHash, index, size, proof: bad.proof, root }),
      `${where}: ${bad.what}`,
    );
  }
}

function checkConsistency(t: BuiltTree, oldSize: number, newSize: number): void {
  const proof = consistencyProof(oldSize, newSize, t.store.nodeAt);
  const oldRoot = t.roots[oldSize]!;
  const newRoot = t.roots[newSize]!;
  const where = `${oldSize} -> ${newSize}`;
  assert.ok(verifyConsistency({ oldSize, newSize, oldRoot, newRoot, proof }), where);
  if (oldSize === 0 || oldSize === newSize) assert.equal(proof.length, 0, where);
  if (oldSize === 0) return; // every tree is consistent with the empty one

  assert.ok(
    !verifyConsistency({ oldSize, newSize, oldRoot: flipBit(oldRoot, 3), newRoot, proof }),
    where,
  );
  assert.ok(
    !verifyConsistency({ oldSize, newSize, oldRoot, newRoot: flipBit(newRoot, 99), proof }),
    where,
  );
  if (oldSize !== newSize) {
    assert.ok(
      !verifyConsistency({ oldSize, newSize, oldRoot: newRoot, newRoot: oldRoot, proof }),
      `${where} swapped`,
    );
    assert.ok(
      !verifyConsistency({ oldSize: newSize, newSize: oldSize, oldRoot, newRoot, proof }),
      where,
    );
  }
  const otherOld = [oldSize + 1, oldSize - 1, oldSize % 4 >= 2 ? oldSize - 2 : oldSize + 2];
  for (const other of otherOld.filter((m) => m > 0 && m <= newSize && m !== oldSize)) {
    assert.ok(
      !verifyConsistency({ oldSize: other, newSize, oldRoot, newRoot, proof }),
      `${where} claimed from ${other}`,
    );
  }
  for (const other of [newSize * 2, Math.floor(newSize / 2)]) {
    if (other === newSize || other < oldSize) continue;
    assert.ok(
      !verifyConsistency({ oldSize, newSize: other, oldRoot, newRoot, proof }),
      `${where} claimed to ${other}`,
    );
  }
  for (const bad of corruptedProofs(proof, EXTRA)) {
    assert.ok(
      !verifyConsistency({ oldSize, newSize, oldRoot, newRoot, proof: bad.proof }),
      `${where}: ${bad.what}`,
    );
  }
}

Deno.test("in every tree of 1 to 130 leaves every inclusion proof verifies and no corruption of it does", () => {
  const t = buildTree(generatedLeaves(130));
  for (let size = 1; size <= 130; size++) {
    for (let index = 0; index < size; index++) checkInclusion(t, index, size);
  }
});

Deno.test("in every tree of 1 to 130 leaves every consistency proof verifies and no corruption of it does", () => {
  const t = buildTree(generatedLeaves(130));
  for (let newSize = 1; newSize <= 130; newSize++) {
    for (let oldSize = 0; oldSize <= newSize; oldSize++) checkConsistency(t, oldSize, newSize);
  }
});

Deno.test(`in random larger trees sampled proofs verify and their corruptions do not (seed ${SEED})`, () => {
  const random = seededRandom(SEED);
  const t = buildTree(generatedLeaves(5000));
  const pick = (max: number) => Math.floor(random() * max);
  for (let round = 0; round < 300; round++) {
    const size = 131 + pick(5000 - 131 + 1);
    checkInclusion(t, pick(size), size);
    checkInclusion(t, size - 1, size);
    checkConsistency(t, 1 + pick(size), size);
  }
  for (const size of [256, 511, 512, 513, 1023, 1024, 1025, 4096, 4097, 5000]) {
    checkInclusion(t, 0, size);
    checkInclusion(t, size - 1, size);
    checkConsistency(t, 1, size);
    checkConsistency(t, size - 1, size);
    checkConsistency(t, Math.floor(size / 2), size);
  }
});
