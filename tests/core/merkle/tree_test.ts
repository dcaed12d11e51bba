import assert from "node:assert/strict";
import { EMPTY_ROOT, leafHash, nodeHash } from "../../../core/primitives/merkle/hash.ts";
import { MerkleFrontier, rootOf } from "../../../core/primitives/merkle/tree.ts";
import { throwsCode } from "../json/_fixtures.ts";
import { generatedLeaves } from "./_store.ts";
import { hex, REFERENCE } from "./_vectors.ts";

const REF_LEAVES = REFERENCE.leaves.map((data) => leafHash(hex(data)));

Deno.test("rootOf() gives the published root of every prefix of the 8-leaf reference tree", () => {
  REFERENCE.roots.forEach((root, i) => {
    assert.deepEqual(rootOf(REF_LEAVES.slice(0, i + 1)), hex(root), `size ${i + 1}`);
  });
});

Deno.test("MerkleFrontier gives the published root after each append to the reference tree", () => {
  const tree = new MerkleFrontier();
  REF_LEAVES.forEach((leaf, i) => {
    tree.push(leaf);
    assert.equal(tree.size, i + 1);
    assert.deepEqual(tree.root(), hex(REFERENCE.roots[i]!), `size ${i + 1}`);
  });
});

Deno.test("the empty tree's root is SHA-256 of the empty string, both ways", () => {
  assert.deepEqual(rootOf([]), EMPTY_ROOT);
  assert.deepEqual(new MerkleFrontier().root(), EMPTY_ROOT);
  assert.equal(new MerkleFrontier().size, 0);
  assert.deepEqual(new MerkleFrontier().frontier(), []);
});

Deno.test("MerkleFrontier.root() equals rootOf() for every size from 0 to 300", () => {
  const leaves = generatedLeaves(300);
  const tree = new MerkleFrontier();
  for (let size = 0; size <= 300; size++) {
    assert.deepEqual(tree.root(), rootOf(leaves.slice(0, size)), `size ${size}`);
    if (size < 300) tree.push(leaves[size]!);
  }
});

Deno.test("push() returns the leaf, then each node it completed, lowest first", () => {
  const tree = new MerkleFrontier();
  const [a, b, c, d] = REF_LEAVES;
  assert.deepEqual(tree.push(a!), [{ level: 0, index: 0, hash: a }]);
  assert.deepEqual(tree.push(b!), [
    { level: 0, index: 1, hash: b },
    { level: 1, index: 0, hash: nodeHash(a!, b!) },
  ]);
  assert.deepEqual(tree.push(c!), [{ level: 0, index: 2, hash: c }]);
  assert.deepEqual(tree.push(d!), [
    { level: 0, index: 3, hash: d },
    { level: 1, index: 1, hash: nodeHash(c!, d!) },
    { level: 2, index: 0, hash: nodeHash(nodeHash(a!, b!), nodeHash(c!, d!)) },
  ]);
});

Deno.test("push() completes every node exactly once, each covering the leaves it names", () => {
  const leaves = generatedLeaves(100);
  const tree = new MerkleFrontier();
  const seen = new Set<string>();
  leaves.forEach((leaf) => {
    for (const node of tree.push(leaf)) {
      const key = `${node.level}:${node.index}`;
      assert.ok(!seen.has(key), `node ${key} completed twice`);
      seen.add(key);
      const width = 2 ** node.level;
      const covered = leaves.slice(node.index * width, (node.index + 1) * width);
      assert.equal(covered.length, width);
      assert.deepEqual(node.hash, rootOf(covered), `node ${key}`);
    }
  });
  // a tree of 100 leaves has 100 + 50 + 25 + 12 + 6 + 3 + 1 complete nodes
  assert.equal(seen.size, 197);
});

Deno.test("a frontier resumed from size() and frontier() continues the same tree", () => {
  const leaves = generatedLeaves(77);
  for (const cut of [0, 1, 2, 31, 32, 33, 50]) {
    const first = new MerkleFrontier();
    leaves.slice(0, cut).forEach((leaf) => first.push(leaf));
    const resumed = new MerkleFrontier(first.size, first.frontier());
    assert.equal(resumed.frontier().length, [...cut.toString(2)].filter((c) => c === "1").length);
    leaves.slice(cut).forEach((leaf) => resumed.push(leaf));
    assert.deepEqual(resumed.root(), rootOf(leaves), `cut at ${cut}`);
  }
});

Deno.test("the frontier is copied in and out, so callers cannot change the tree", () => {
  const tree = new MerkleFrontier();
  const leaf = REF_LEAVES[0]!.slice();
  const [node] = tree.push(leaf);
  leaf.fill(0);
  node!.hash.fill(0);
  tree.frontier()[0]!.fill(0);
  tree.root().fill(0);
  assert.deepEqual(tree.root(), REF_LEAVES[0]);

  const given = [REF_LEAVES[1]!.slice()];
  const resumed = new MerkleFrontier(1, given);
  given[0]!.fill(0);
  assert.deepEqual(resumed.root(), REF_LEAVES[1]);
  EMPTY_ROOT.slice().fill(0);
  assert.deepEqual(new MerkleFrontier().root(), hexEmpty());
});

function hexEmpty(): Uint8Array {
  return hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Deno.test("a frontier with the wrong number of subtree roots for its size is refused", () => {
  const h = REF_LEAVES[0]!;
  throwsCode(() => new MerkleFrontier(1, []), "parse_error");
  throwsCode(() => new MerkleFrontier(0, [h]), "parse_error");
  throwsCode(() => new MerkleFrontier(3, [h]), "parse_error");
  throwsCode(() => new MerkleFrontier(4, [h, h]), "parse_error");
  const err = throwsCode(() => new MerkleFrontier(7, [h, h]), "parse_error");
  assert.match(err.message, /expected 3 subtree roots, got 2/);
});

Deno.test("a size that is not a safe non-negative integer is refused", () => {
  for (const size of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
    throwsCode(() => new MerkleFrontier(size, []), "parse_error");
  }
});

Deno.test("hashes that are not 32 bytes are refused in the frontier and in push()", () => {
  throwsCode(() => new MerkleFrontier(1, [new Uint8Array(31)]), "parse_error");
  throwsCode(() => rootOf([new Uint8Array(33)]), "parse_error");
  const tree = new MerkleFrontier();
  throwsCode(() => tree.push(new Uint8Array(0)), "parse_error");
  assert.equal(tree.size, 0);
});

Deno.test("a log of 2^53 - 1 leaves refuses one more", () => {
  const size = Number.MAX_SAFE_INTEGER;
  const frontier = Array.from({ length: 53 }, () => REF_LEAVES[0]!);
  const tree = new MerkleFrontier(size, frontier);
  throwsCode(() => tree.push(REF_LEAVES[1]!), "size_exceeded");
  assert.equal(tree.size, size);
});

Deno.test("a log just below 2^53 leaves appends with exact indexes past 32 bits", () => {
  const size = 2 ** 52 + 2 ** 33 + 1; // three subtrees
  const h = REF_LEAVES;
  const tree = new MerkleFrontier(size, [h[0]!, h[1]!, h[2]!]);
  const nodes = tree.push(h[3]!);
  assert.deepEqual(nodes.map((n) => [n.level, n.index]), [[0, size], [1, (size - 1) / 2]]);
  assert.deepEqual(tree.frontier(), [h[0], h[1], nodeHash(h[2]!, h[3]!)]);
  assert.deepEqual(tree.root(), nodeHash(h[0]!, nodeHash(h[1]!, nodeHash(h[2]!, h[3]!))));
});
