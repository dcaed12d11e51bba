import assert from "node:assert/strict";
import { EMPTY_ROOT, leafHash, nodeHash } from "../../../core/primitives/merkle/hash.ts";
import {
  consistencyProof,
  inclusionProof,
  type NodeReader,
  subtreeRoot,
  verifyConsistency,
  verifyInclusion,
} from "../../../core/primitives/merkle/proof.ts";
import { MerkleFrontier, rootOf } from "../../../core/primitives/merkle/tree.ts";
import { throwsCode } from "../json/_fixtures.ts";
import { buildTree, generatedLeaves } from "./_store.ts";

const T = buildTree(generatedLeaves(40));
const R1 = leafHash(Uint8Array.of(1));
const R2 = leafHash(Uint8Array.of(2));

Deno.test("subtreeRoot() equals the MTH of every aligned range of the tree", () => {
  for (let start = 0; start < 40; start++) {
    for (let end = start + 1; end <= 40; end++) {
      let width = 1;
      while (width * 2 <= end - start) width *= 2;
      if (start % width !== 0) continue;
      assert.deepEqual(
        subtreeRoot(start, end, T.store.nodeAt),
        rootOf(T.leaves.slice(start, end)),
        `[${start}, ${end})`,
      );
    }
  }
  assert.deepEqual(subtreeRoot(7, 7, T.store.nodeAt), EMPTY_ROOT);
});

Deno.test("subtreeRoot() reads one node per set bit of the range's length", () => {
  let reads = 0;
  const counting: NodeReader = (level, index) => {
    reads++;
    return T.store.nodeAt(level, index);
  };
  subtreeRoot(0, 39, counting); // 39 = 0b100111
  assert.equal(reads, 4);
  reads = 0;
  subtreeRoot(32, 40, counting);
  assert.equal(reads, 1);
});

Deno.test("proofs of a million-leaf log read O(log n) nodes", () => {
  // a virtual tree of identical leaves: every node of a level has the same hash
  const levels = [leafHash(Uint8Array.of(0))];
  for (let l = 1; l <= 53; l++) levels.push(nodeHash(levels[l - 1]!, levels[l - 1]!));
  let reads = 0;
  const nodeAt: NodeReader = (level) => {
    reads++;
    return levels[level]!;
  };
  inclusionProof(123_456, 1_000_000, nodeAt);
  assert.ok(reads <= 2 * 20, `${reads} reads`);
  reads = 0;
  consistencyProof(333_333, 1_000_000, nodeAt);
  assert.ok(reads <= 2 * 20, `${reads} reads`);
});

Deno.test("proofs in trees of up to 2^53 - 1 leaves verify: no 32-bit arithmetic anywhere", () => {
  const levels = [leafHash(Uint8Array.of(0))];
  for (let l = 1; l <= 53; l++) levels.push(nodeHash(levels[l - 1]!, levels[l - 1]!));
  const nodeAt: NodeReader = (level) => levels[level]!;
  const rootAt = (size: number): Uint8Array => {
    const frontier: Uint8Array[] = [];
    for (let l = 52; l >= 0; l--) {
      if (Math.floor(size / 2 ** l) % 2 === 1) frontier.push(levels[l]!);
    }
    return new MerkleFrontier(size, frontier).root();
  };
  const sizes = [2 ** 32 + 1, 2 ** 40 + 12_345, 2 ** 52, 2 ** 53 - 2, Number.MAX_SAFE_INTEGER];
  for (const size of sizes) {
    const root = rootAt(size);
    assert.deepEqual(subtreeRoot(0, size, nodeAt), root);
    for (const index of [0, 2 ** 31, 2 ** 32 - 1, size - 2, size - 1]) {
      const proof = inclusionProof(index, size, nodeAt);
      assert.ok(
        verifyInclusion({ leafHash: levels[0]!, index, size, proof, root }),
        `${index}/${size}`,
      );
      assert.ok(!verifyInclusion({ leafHash: levels[1]!, index, size, proof, root }));
    }
    for (const oldSize of [1, 2 ** 32 - 1, 2 ** 32, size - 1]) {
      const proof = consistencyProof(oldSize, size, nodeAt);
      const check = { oldSize, newSize: size, oldRoot: rootAt(oldSize), newRoot: root, proof };
      assert.ok(verifyConsistency(check), `${oldSize} -> ${size}`);
      assert.ok(!verifyConsistency({ ...check, oldRoot: root }));
    }
  }
});

Deno.test("RFC 9162's trivial consistency cases: equal sizes need equal roots and no proof", () => {
  const v = (
    oldSize: number,
    newSize: number,
    oldRoot: Uint8Array,
    newRoot: Uint8Array,
    proof: Uint8Array[],
  ) => verifyConsistency({ oldSize, newSize, oldRoot, newRoot, proof });
  assert.ok(v(0, 0, EMPTY_ROOT, EMPTY_ROOT, []));
  assert.ok(v(1, 1, R1, R1, []));
  assert.ok(!v(0, 0, EMPTY_ROOT, R2, []));
  assert.ok(!v(1, 1, R1, R2, []));
  assert.ok(!v(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]));
  assert.ok(!v(1, 1, R1, R1, [R1]));
});

Deno.test("RFC 9162's trivial consistency cases: the empty tree needs an empty proof, the past is refused", () => {
  const v = (oldSize: number, newSize: number, proof: Uint8Array[]) =>
    verifyConsistency({ oldSize, newSize, oldRoot: R1, newRoot: R2, proof });
  assert.ok(v(0, 1, []));
  assert.ok(v(0, 1000, []));
  assert.ok(!v(0, 1, [EMPTY_ROOT]));
  assert.ok(!v(1, 0, []));
  assert.ok(!v(2, 1, []));
  assert.ok(!v(1, 2, []));
});

Deno.test("consistencyProof() is empty from the empty tree and between equal sizes", () => {
  assert.deepEqual(consistencyProof(0, 40, T.store.nodeAt), []);
  assert.deepEqual(consistencyProof(17, 17, T.store.nodeAt), []);
  assert.deepEqual(consistencyProof(0, 0, T.store.nodeAt), []);
});

Deno.test("proof builders refuse impossible requests with parse_error", () => {
  const nodeAt = T.store.nodeAt;
  throwsCode(() => inclusionProof(5, 5, nodeAt), "parse_error");
  throwsCode(() => inclusionProof(0, 0, nodeAt), "parse_error");
  throwsCode(() => inclusionProof(-1, 5, nodeAt), "parse_error");
  throwsCode(() => inclusionProof(1.5, 5, nodeAt), "parse_error");
  throwsCode(() => inclusionProof(0, 2 ** 53, nodeAt), "parse_error");
  throwsCode(() => consistencyProof(6, 5, nodeAt), "parse_error");
  throwsCode(() => consistencyProof(-1, 5, nodeAt), "parse_error");
  throwsCode(() => consistencyProof(1, Number.NaN, nodeAt), "parse_error");
  throwsCode(() => subtreeRoot(5, 4, nodeAt), "parse_error");
  const misaligned = throwsCode(() => subtreeRoot(1, 5, nodeAt), "parse_error");
  assert.match(misaligned.message, /not aligned/);
});

Deno.test("a store that returns something other than a 32-byte hash is a broken ledger", () => {
  const short: NodeReader = () => new Uint8Array(31);
  throwsCode(() => subtreeRoot(0, 4, short), "ledger_broken");
  throwsCode(() => inclusionProof(0, 4, short), "ledger_broken");
  const notBytes = (() => "hash") as unknown as NodeReader;
  throwsCode(() => consistencyProof(1, 4, notBytes), "ledger_broken");
});

Deno.test("a store's own error reaches the caller unchanged", () => {
  const failing: NodeReader = () => {
    throw new Error("disk on fire");
  };
  assert.throws(() => inclusionProof(0, 4, failing), /disk on fire/);
  assert.throws(() => consistencyProof(1, 4, failing), /disk on fire/);
});

Deno.test("proofs are copies: changing one does not change the store", () => {
  const proof = inclusionProof(3, 40, T.store.nodeAt);
  const again = inclusionProof(3, 40, T.store.nodeAt);
  proof[0]!.fill(0);
  assert.deepEqual(inclusionProof(3, 40, T.store.nodeAt), again);
});

Deno.test("verifiers return false, never throw, on input of the wrong type or shape", () => {
  const good = { leafHash: R1, index: 0, size: 1, proof: [] as Uint8Array[], root: R1 };
  assert.ok(verifyInclusion(good));
  const bad: unknown[] = [
    { ...good, index: "0" },
    { ...good, size: 1n },
    { ...good, index: -1 },
    { ...good, index: 0.5 },
    { ...good, size: 2 ** 53 },
    { ...good, proof: null },
    { ...good, proof: ["x"] },
    { ...good, leafHash: [...R1] },
    { ...good, root: undefined },
    {
      ...good,
      get proof(): never {
        throw new Error("boom");
      },
    },
    null,
    undefined,
  ];
  for (const input of bad) {
    assert.equal(verifyInclusion(input as never), false);
    assert.equal(verifyConsistency(input as never), false);
  }
  const long = Array.from({ length: 1000 }, () => R1);
  assert.equal(verifyInclusion({ ...good, size: 2 ** 53 - 1, proof: long }), false);
  const c = { oldSize: 1, newSize: 2, oldRoot: R1, newRoot: nodeHash(R1, R2), proof: [R2] };
  assert.ok(verifyConsistency(c));
  assert.equal(verifyConsistency({ ...c, proof: long }), false);
  assert.equal(verifyConsistency({ ...c, oldRoot: R1.subarray(1) }), false);
  assert.equal(verifyConsistency({ ...c, newSize: "2" } as never), false);
});
