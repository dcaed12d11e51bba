import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  EMPTY_ROOT,
  HASH_BYTES,
  leafHash,
  nodeHash,
} from "../../../core/primitives/merkle/hash.ts";
import { hex, REFERENCE } from "./_vectors.ts";

const H = REFERENCE.hasher;
const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

Deno.test("the empty root is SHA-256 of the empty string, as in rfc6962_test.go", () => {
  assert.deepEqual(EMPTY_ROOT, hex(H.empty_root));
  assert.equal(EMPTY_ROOT.byteLength, HASH_BYTES);
});

Deno.test("leafHash() matches the RFC 6962 empty-leaf and leaf vectors", () => {
  assert.deepEqual(leafHash(hex(H.empty_leaf.data)), hex(H.empty_leaf.hash));
  assert.deepEqual(leafHash(hex(H.leaf.data)), hex(H.leaf.hash));
  assert.deepEqual(leafHash(new TextEncoder().encode("L123456")), hex(H.leaf.hash));
});

Deno.test("nodeHash() matches the RFC 6962 node vector over N123 and N456", () => {
  assert.deepEqual(nodeHash(hex(H.node.left), hex(H.node.right)), hex(H.node.hash));
});

Deno.test("an empty leaf does not hash like the empty tree", () => {
  assert.notDeepEqual(leafHash(new Uint8Array(0)), EMPTY_ROOT);
});

Deno.test("a node does not hash like a leaf of its children's concatenation", () => {
  const a = leafHash(new TextEncoder().encode("Hello"));
  const b = leafHash(new TextEncoder().encode("World"));
  const joined = new Uint8Array([...a, ...b]);
  assert.notDeepEqual(nodeHash(a, b), leafHash(joined));
  assert.notDeepEqual(nodeHash(a, b), nodeHash(b, a));
});

Deno.test("leafHash() agrees with SHA-256(0x00 ‖ data) for every size around the scratch buffer", () => {
  for (const size of [1, 31, 32, 33, 64, 4095, 4096, 4097, 10_000, 100_000]) {
    const data = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff);
    assert.deepEqual(leafHash(data), sha256(Uint8Array.of(0), data), `size ${size}`);
  }
});

Deno.test("nodeHash() hashes children of any length exactly as given", () => {
  const big = new Uint8Array(5000).fill(7);
  const small = Uint8Array.of(1, 2, 3);
  assert.deepEqual(nodeHash(big, small), sha256(Uint8Array.of(1), big, small));
  assert.deepEqual(nodeHash(small, new Uint8Array(0)), sha256(Uint8Array.of(1), small));
});

Deno.test("each hash is a plain 32-byte array of its own that later hashing never changes", () => {
  const a = leafHash(Uint8Array.of(1));
  const copy = a.slice();
  const b = nodeHash(a, a);
  leafHash(new Uint8Array(4000).fill(9));
  nodeHash(b, b);
  assert.deepEqual(a, copy);
  assert.equal(Object.getPrototypeOf(a), Uint8Array.prototype);
  assert.equal(a.buffer.byteLength, HASH_BYTES);
  assert.equal(b.byteLength, HASH_BYTES);
});

Deno.test("hashing does not keep or modify its input", () => {
  const data = Uint8Array.of(5, 6, 7);
  const before = data.slice();
  const h1 = leafHash(data);
  data[0] = 99;
  assert.deepEqual(data.subarray(1), before.subarray(1));
  assert.notDeepEqual(leafHash(data), h1);
  data[0] = 5;
  assert.deepEqual(leafHash(data), h1);
});
