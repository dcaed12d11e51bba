import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { sha256 } from "../../../core/primitives/crypto/sha256.ts";

function reference(...parts: Uint8Array[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

Deno.test("sha256() matches the FIPS 180-2 examples", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assert.equal(
    sha256().toHex(),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    sha256(text("abc")).toHex(),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    sha256(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toHex(),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    sha256(new Uint8Array(1_000_000).fill(0x61)).toHex(),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("sha256() agrees with node:crypto on every length around the block and buffer edges, in parts", () => {
  const lengths = [
    ...Array.from({ length: 200 }, (_, i) => i),
    65_535,
    65_536,
    65_537,
    200_000,
  ];
  for (const n of lengths) {
    const data = bytes(n, n);
    assert.equal(sha256(data).toHex(), reference(data), `length ${n}`);
    const cut = Math.floor(n / 3);
    const parts = [data.subarray(0, cut), new Uint8Array(0), data.subarray(cut)];
    assert.equal(sha256(...parts).toHex(), reference(data), `length ${n} in parts`);
  }
});

Deno.test("sha256() returns a fresh array each time, not a view the next digest overwrites", () => {
  const a = sha256(bytes(10, 1));
  const copy = a.slice();
  const b = sha256(bytes(10, 2));
  assert.deepEqual(a, copy);
  assert.notDeepEqual(a, b);
  assert.equal(a.byteLength, 32);
  assert.equal(a.buffer.byteLength, 32);
});
