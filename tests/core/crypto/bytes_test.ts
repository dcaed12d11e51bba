import assert from "node:assert/strict";
import {
  concatBytes,
  constantTimeEqual,
  constantTimeEqualText,
  fromBase64,
  fromHex,
  sha256Hex,
  toBase64,
  toHex,
  utf8,
} from "../../../core/primitives/crypto/bytes.ts";
import { throwsCode } from "../json/_fixtures.ts";

Deno.test("fromBase64() round-trips every length from 0 to 40 bytes", () => {
  for (let n = 0; n <= 40; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 251) & 0xff);
    assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
  }
});

Deno.test("fromBase64() refuses every non-canonical spelling of a value", () => {
  // "hi" is aGk=, and [0xfb, 0xff] is +/8=: each other spelling would be a second encoding
  assert.deepEqual(fromBase64("aGk="), utf8("hi"));
  assert.deepEqual(fromBase64("+/8="), Uint8Array.from([0xfb, 0xff]));
  for (
    const text of [
      "aGk", // missing padding
      "aGk==",
      "aG k=", // whitespace
      " aGk=",
      "aGk=\n",
      "aG\r\nk=",
      "-_8=", // URL alphabet
      "-_8",
      "aGl=", // non-zero pad bits decode to "hi" too
      "aGk=aGk=", // padding in the middle
      "=",
      "====",
      "a===",
      "aGk\u0000",
    ]
  ) {
    throwsCode(() => fromBase64(text), "parse_error");
  }
});

Deno.test("fromHex() accepts lowercase hex only", () => {
  assert.deepEqual(fromHex("00ff"), Uint8Array.from([0, 255]));
  for (const text of ["00FF", "0", "0g", " 00", "00 ", "0x00"]) {
    throwsCode(() => fromHex(text), "parse_error");
  }
  assert.equal(toHex(Uint8Array.from([0, 171])), "00ab");
});

Deno.test("constantTimeEqual() is true only for identical bytes", () => {
  const a = Uint8Array.from([1, 2, 3, 4]);
  assert.equal(constantTimeEqual(a, Uint8Array.from([1, 2, 3, 4])), true);
  assert.equal(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)), true);
  for (let i = 0; i < a.length; i++) {
    const b = new Uint8Array(a);
    b[i]! ^= 0x80;
    assert.equal(constantTimeEqual(a, b), false);
  }
  assert.equal(constantTimeEqual(a, a.subarray(0, 3)), false);
  assert.equal(constantTimeEqual(a, Uint8Array.from([1, 2, 3, 4, 0])), false);
  assert.equal(constantTimeEqualText("s3cret", "s3cret"), true);
  assert.equal(constantTimeEqualText("s3cret", "s3creT"), false);
});

Deno.test("sha256Hex() matches the FIPS 180-2 digest of abc", async () => {
  assert.equal(
    await sha256Hex(utf8("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("concatBytes() joins parts in order", () => {
  assert.deepEqual(
    concatBytes(Uint8Array.from([1]), new Uint8Array(0), Uint8Array.from([2, 3])),
    Uint8Array.from([1, 2, 3]),
  );
});
