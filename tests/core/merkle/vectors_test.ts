import assert from "node:assert/strict";
import { leafHash } from "../../../core/primitives/merkle/hash.ts";
import {
  consistencyProof,
  inclusionProof,
  verifyConsistency,
  verifyInclusion,
} from "../../../core/primitives/merkle/proof.ts";
import { buildTree } from "./_store.ts";
import { b64, CONSISTENCY_CASES, hex, INCLUSION_CASES, REFERENCE } from "./_vectors.ts";

const REF = buildTree(REFERENCE.leaves.map((data) => leafHash(hex(data))));

Deno.test("the copied transparency-dev vectors are all there: 82 inclusion and 84 consistency cases", () => {
  assert.equal(INCLUSION_CASES.length, 82);
  assert.equal(CONSISTENCY_CASES.length, 84);
  assert.equal(INCLUSION_CASES.filter((c) => !c.case.wantErr).length, 5);
  assert.equal(CONSISTENCY_CASES.filter((c) => !c.case.wantErr).length, 5);
});

Deno.test("every transparency-dev inclusion case verifies exactly when it should", () => {
  for (const { path, case: c } of INCLUSION_CASES) {
    const ok = verifyInclusion({
      leafHash: b64(c.leafHash),
      index: c.leafIdx,
      size: c.treeSize,
      proof: (c.proof ?? []).map(b64),
      root: b64(c.root),
    });
    assert.equal(ok, !c.wantErr, `${path} (${c.desc})`);
  }
});

Deno.test("every transparency-dev consistency case verifies exactly when it should", () => {
  for (const { path, case: c } of CONSISTENCY_CASES) {
    const ok = verifyConsistency({
      oldSize: c.size1,
      newSize: c.size2,
      oldRoot: b64(c.root1),
      newRoot: b64(c.root2),
      proof: (c.proof ?? []).map(b64),
    });
    assert.equal(ok, !c.wantErr, `${path} (${c.desc})`);
  }
});

Deno.test("the happy-path proofs of transparency-dev are the ones built from the reference tree", () => {
  for (const { path, case: c } of INCLUSION_CASES.filter((x) => !x.case.wantErr)) {
    assert.deepEqual(b64(c.leafHash), REF.leaves[c.leafIdx], path);
    assert.deepEqual(b64(c.root), REF.roots[c.treeSize], path);
    const built = inclusionProof(c.leafIdx, c.treeSize, REF.store.nodeAt);
    assert.deepEqual(built, (c.proof ?? []).map(b64), path);
  }
  for (const { path, case: c } of CONSISTENCY_CASES.filter((x) => !x.case.wantErr)) {
    assert.deepEqual(b64(c.root1), REF.roots[c.size1], path);
    assert.deepEqual(b64(c.root2), REF.roots[c.size2], path);
    const built = consistencyProof(c.size1, c.size2, REF.store.nodeAt);
    assert.deepEqual(built, (c.proof ?? []).map(b64), path);
  }
});

Deno.test("inclusionProof() reproduces every published inclusion proof of verify_test.go", () => {
  for (const { leaf, size, proof } of REFERENCE.inclusion_proofs) {
    const index = leaf - 1;
    assert.deepEqual(
      inclusionProof(index, size, REF.store.nodeAt),
      proof.map(hex),
      `${leaf}/${size}`,
    );
    assert.ok(verifyInclusion({
      leafHash: REF.leaves[index]!,
      index,
      size,
      proof: proof.map(hex),
      root: hex(REFERENCE.roots[size - 1]!),
    }));
  }
});

Deno.test("consistencyProof() reproduces every published consistency proof of verify_test.go", () => {
  for (const { size1, size2, proof } of REFERENCE.consistency_proofs) {
    assert.deepEqual(
      consistencyProof(size1, size2, REF.store.nodeAt),
      proof.map(hex),
      `${size1}->${size2}`,
    );
    assert.ok(verifyConsistency({
      oldSize: size1,
      newSize: size2,
      oldRoot: hex(REFERENCE.roots[size1 - 1]!),
      newRoot: hex(REFERENCE.roots[size2 - 1]!),
      proof: proof.map(hex),
    }));
  }
});

Deno.test("verify_test.go's single-entry probes: a one-leaf tree's root is its leaf hash", () => {
  const hash = leafHash(new TextEncoder().encode("data"));
  assert.ok(verifyInclusion({ leafHash: hash, index: 0, size: 1, proof: [], root: hash }));
  const empty = new Uint8Array(0);
  assert.ok(!verifyInclusion({ leafHash: empty, index: 0, size: 1, proof: [], root: hash }));
  assert.ok(!verifyInclusion({ leafHash: hash, index: 0, size: 1, proof: [], root: empty }));
  assert.ok(!verifyInclusion({ leafHash: empty, index: 0, size: 1, proof: [], root: empty }));
});

Deno.test("verify_test.go's impossible index and size probes never verify", () => {
  const some = hex(REFERENCE.some_hash);
  const emptyRoot = hex(REFERENCE.hasher.empty_root);
  for (const [index, size] of [[0, 0], [0, 1], [1, 0], [2, 1]] as const) {
    for (
      const [leaf, root] of [[some, new Uint8Array(0)], [new Uint8Array(0), emptyRoot], [
        some,
        emptyRoot,
      ]] as const
    ) {
      assert.ok(
        !verifyInclusion({ leafHash: leaf, index, size, proof: [], root }),
        `${index}/${size}`,
      );
    }
  }
});
