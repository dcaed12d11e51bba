import assert from "node:assert/strict";
import { pae } from "../../../core/primitives/dsse/pae.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("pae() matches the DSSE v1 protocol example byte for byte", () => {
  assert.deepEqual(
    pae("http://example.com/HelloWorld", bytes("hello world")),
    bytes("DSSEv1 29 http://example.com/HelloWorld 11 hello world"),
  );
});

Deno.test("pae() encodes an empty payload type and an empty payload", () => {
  assert.equal(text(pae("", new Uint8Array(0))), "DSSEv1 0  0 ");
  assert.equal(text(pae("t", new Uint8Array(0))), "DSSEv1 1 t 0 ");
  assert.equal(text(pae("", bytes("x"))), "DSSEv1 0  1 x");
});

Deno.test("pae() counts the payload type length in UTF-8 bytes, not characters", () => {
  assert.equal(text(pae("é", new Uint8Array(0))), "DSSEv1 2 é 0 ");
  assert.equal(text(pae("日本", new Uint8Array(0))), "DSSEv1 6 日本 0 ");
  assert.equal(text(pae("\u{1f600}", new Uint8Array(0))), "DSSEv1 4 \u{1f600} 0 ");
});

Deno.test("pae() includes binary payload bytes unchanged and counts them", () => {
  const payload = Uint8Array.from([0x00, 0xff, 0x20, 0x0a]);
  const out = pae("b", payload);
  assert.deepEqual(out, Uint8Array.from([...bytes("DSSEv1 1 b 4 "), ...payload]));
});

Deno.test("pae() writes lengths in decimal without leading zeros", () => {
  const payload = new Uint8Array(1000).fill(0x61);
  assert.ok(text(pae("t", payload)).startsWith("DSSEv1 1 t 1000 aaa"));
});

Deno.test("pae() keeps type and payload apart: moving bytes across the boundary changes the result", () => {
  // without length prefixes "a b" + "c" and "a" + "b c" would encode the same
  assert.notDeepEqual(pae("a b", bytes("c")), pae("a", bytes("b c")));
});
