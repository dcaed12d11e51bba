import assert from "node:assert/strict";
import { sha256Hex, toHex } from "../../../core/primitives/crypto/bytes.ts";
import { keyIdOf, SigningKey, verifyEd25519 } from "../../../core/primitives/crypto/ed25519.ts";
import { rejectsCode } from "../json/_fixtures.ts";

interface Rfc8032Vector {
  name: string;
  secret_key: string;
  public_key: string;
  message: string;
  signature: string;
}

const VECTORS: Rfc8032Vector[] = JSON.parse(
  await Deno.readTextFile(new URL("../../testdata/rfc8032_ed25519.json", import.meta.url)),
).vectors;

const hex = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.fromHex(text);

function flipBit(bytes: Uint8Array, bit: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

Deno.test("the RFC 8032 vector file holds TEST 1, 2, 3, 1024 and SHA(abc)", async () => {
  assert.deepEqual(VECTORS.map((v) => v.name), [
    "TEST 1",
    "TEST 2",
    "TEST 3",
    "TEST 1024",
    "TEST SHA(abc)",
  ]);
  assert.equal(hex(VECTORS[3]!.message).byteLength, 1023);
  // TEST SHA(abc) signs SHA-512("abc"): recompute it so the file cannot drift
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-512", new TextEncoder().encode("abc")),
  );
  assert.equal(VECTORS[4]!.message, toHex(digest));
});

for (const v of VECTORS) {
  Deno.test(`SigningKey.fromSeed() reproduces the RFC 8032 ${v.name} public key and signature`, async () => {
    const key = await SigningKey.fromSeed(hex(v.secret_key));
    assert.equal(toHex(key.publicKey), v.public_key);
    assert.equal(key.keyid, await sha256Hex(hex(v.public_key)));
    assert.equal(toHex(await key.sign(hex(v.message))), v.signature);
  });

  Deno.test(`verifyEd25519() accepts the RFC 8032 ${v.name} signature`, async () => {
    assert.equal(await verifyEd25519(hex(v.public_key), hex(v.message), hex(v.signature)), true);
  });
}

const V = VECTORS[2]!; // TEST 3: a two-byte message, so every message bit can be flipped

Deno.test("verifyEd25519() refuses every single-bit change of the message", async () => {
  const message = hex(V.message);
  for (let bit = 0; bit < message.byteLength * 8; bit++) {
    assert.equal(
      await verifyEd25519(hex(V.public_key), flipBit(message, bit), hex(V.signature)),
      false,
    );
  }
  const longer = new Uint8Array([...message, 0]);
  assert.equal(await verifyEd25519(hex(V.public_key), longer, hex(V.signature)), false);
});

Deno.test("verifyEd25519() refuses every single-bit change of the signature", async () => {
  for (let bit = 0; bit < 512; bit++) {
    const ok = await verifyEd25519(
      hex(V.public_key),
      hex(V.message),
      flipBit(hex(V.signature), bit),
    );
    assert.equal(ok, false, `flipped signature bit ${bit} verified`);
  }
});

Deno.test("verifyEd25519() refuses every single-bit change of the public key", async () => {
  for (let bit = 0; bit < 256; bit++) {
    const ok = await verifyEd25519(
      flipBit(hex(V.public_key), bit),
      hex(V.message),
      hex(V.signature),
    );
    assert.equal(ok, false, `flipped key bit ${bit} verified`);
  }
});

Deno.test("verifyEd25519() returns false for wrong lengths instead of throwing", async () => {
  const pk = hex(V.public_key);
  const msg = hex(V.message);
  const sig = hex(V.signature);
  for (const n of [0, 31, 33, 64]) {
    assert.equal(await verifyEd25519(new Uint8Array(n), msg, sig), false);
  }
  for (const n of [0, 32, 63, 65, 128]) {
    const wrong = new Uint8Array(n);
    wrong.set(sig.subarray(0, Math.min(n, 64)));
    assert.equal(await verifyEd25519(pk, msg, wrong), false);
  }
  assert.equal(await verifyEd25519(pk.subarray(0, 31), msg, sig), false);
});

Deno.test("verifyEd25519() refuses a signature whose scalar S is not reduced (S + L)", async () => {
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const sig = hex(V.signature);
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
  let t = s + L;
  for (let i = 0; i < 32; i++) {
    sig[32 + i] = Number(t & 0xffn);
    t >>= 8n;
  }
  assert.equal(await verifyEd25519(hex(V.public_key), hex(V.message), sig), false);
});

// the eight small-order points and the non-canonical encodings p and p+1, each with
// both sign bits: with one of these as a public key, (R = A, S = 0) "verifies" anything
const SMALL_ORDER = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].flatMap((h) => [hex(h), flipBit(hex(h), 255)]);

Deno.test("verifyEd25519() refuses forged signatures under small-order public keys", async () => {
  const identity = hex("01".padEnd(64, "0"));
  const messages = [new Uint8Array(0), new TextEncoder().encode("grant all tools")];
  for (const key of SMALL_ORDER) {
    for (const r of [key, identity]) {
      const forged = new Uint8Array(64);
      forged.set(r);
      for (const msg of messages) {
        assert.equal(await verifyEd25519(key, msg, forged), false, `forgery under ${toHex(key)}`);
      }
    }
  }
});

Deno.test("SigningKey.fromSeed() refuses a seed that is not 32 bytes", async () => {
  for (const n of [0, 31, 33, 64]) {
    await rejectsCode(SigningKey.fromSeed(new Uint8Array(n)), "parse_error");
  }
});

Deno.test("SigningKey never reveals its seed through JSON.stringify, Deno.inspect or String", async () => {
  const seed = hex(VECTORS[0]!.secret_key);
  const key = await SigningKey.fromSeed(seed);
  const forms = [
    seed.toHex(),
    seed.toBase64(),
    seed.toBase64({ alphabet: "base64url", omitPadding: true }),
  ];
  const outputs = [
    JSON.stringify(key),
    JSON.stringify({ nested: [key] }),
    Deno.inspect(key),
    Deno.inspect({ key }, { showHidden: true, depth: 10 }),
    Deno.inspect(key, { showHidden: true, depth: 10, colors: false }),
    String(key),
    `${Object.entries(key)}`,
    JSON.stringify(
      Object.getOwnPropertyNames(key).map((k) => (key as unknown as Record<string, unknown>)[k]),
    ),
  ];
  for (const output of outputs) {
    for (const form of forms) assert.ok(!output.includes(form), `seed leaked in ${output}`);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(key)), { keyid: key.keyid });
});

Deno.test("keyIdOf() is the hex SHA-256 of the raw public key", async () => {
  const pk = hex(VECTORS[0]!.public_key);
  assert.equal(await keyIdOf(pk), await sha256Hex(pk));
  assert.match(await keyIdOf(pk), /^[0-9a-f]{64}$/);
});
