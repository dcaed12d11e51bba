import assert from "node:assert/strict";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { parseDsse } from "../../../core/primitives/dsse/parse.ts";
import { decodeRootPayload, rootKeySet, signRoot } from "../../../core/domain/trust/root.ts";
import { assertRefused, makeKeys, rootPayload } from "./_fixtures.ts";

Deno.test("decodeRootPayload() refuses a threshold of 0", async () => {
  const [a] = await makeKeys(1);
  await assertRefused(
    () => decodeRootPayload(rootPayload({ version: 1, keys: [a!], threshold: 0 }), "$"),
    "bad_threshold",
  );
});

Deno.test("decodeRootPayload() refuses a threshold above the number of keys", async () => {
  const keys = await makeKeys(2);
  await assertRefused(
    () => decodeRootPayload(rootPayload({ version: 1, keys, threshold: 3 }), "$"),
    "bad_threshold",
  );
});

Deno.test("decodeRootPayload() counts one key listed under two key ids once", async () => {
  const [a] = await makeKeys(1);
  const payload = rootPayload({ version: 1, keys: [a!], threshold: 2 });
  payload.keys.push({ keyid: "second-label", public_key: payload.keys[0]!.public_key });
  await assertRefused(() => decodeRootPayload(payload, "$"), "bad_threshold");
  payload.threshold = 1;
  assert.equal(decodeRootPayload(payload, "$").keys.length, 2);
});

Deno.test("decodeRootPayload() refuses unknown fields and a repeated key id", async () => {
  const keys = await makeKeys(2);
  const payload = rootPayload({ version: 1, keys, threshold: 1 });
  await assertRefused(() => decodeRootPayload({ ...payload, extra: 1 }, "$"), "parse_error");
  payload.keys[1]!.keyid = payload.keys[0]!.keyid;
  await assertRefused(() => decodeRootPayload(payload, "$"), "parse_error");
});

Deno.test("decodeRootPayload() refuses a public key that is not canonical base64 of 32 bytes", async () => {
  const [a] = await makeKeys(1);
  const payload = rootPayload({ version: 1, keys: [a!], threshold: 1 });
  payload.keys[0]!.public_key = new Uint8Array(31).toBase64();
  await assertRefused(() => decodeRootPayload(payload, "$"), "parse_error");
  // same 32 bytes, but non-zero padding bits: a second spelling of a key
  const canonical = a!.publicKey.toBase64();
  const last = canonical.at(-2)!;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const twisted = alphabet[alphabet.indexOf(last) | 1]!;
  if (twisted !== last) {
    payload.keys[0]!.public_key = canonical.slice(0, -2) + twisted + "=";
    await assertRefused(() => decodeRootPayload(payload, "$"), "parse_error");
  }
  payload.keys[0]!.keyid = "has space";
  payload.keys[0]!.public_key = canonical;
  await assertRefused(() => decodeRootPayload(payload, "$"), "parse_error");
});

Deno.test("decodeRootPayload() refuses more than 32 keys and a version below 1", async () => {
  const keys = await makeKeys(33);
  await assertRefused(
    () => decodeRootPayload(rootPayload({ version: 1, keys, threshold: 1 }), "$"),
    "parse_error",
  );
  await assertRefused(
    () => decodeRootPayload(rootPayload({ version: 0, keys: keys.slice(0, 1), threshold: 1 }), "$"),
    "parse_error",
  );
});

Deno.test("decodeRootPayload() refuses an expiry before the issue time", async () => {
  const [a] = await makeKeys(1);
  const payload = rootPayload({ version: 1, keys: [a!], threshold: 1, expiresAtMs: 0 });
  await assertRefused(() => decodeRootPayload(payload, "$"), "parse_error");
});

Deno.test("signRoot() refuses to sign a root with threshold 0", async () => {
  const [a] = await makeKeys(1);
  await assertRefused(
    () =>
      signRoot({ payload: rootPayload({ version: 1, keys: [a!], threshold: 0 }), signers: [a!] }),
    "bad_threshold",
  );
});

Deno.test("signRoot() produces a root DSSE statement and rootKeySet() exposes its keys", async () => {
  const keys = await makeKeys(3);
  const payload = rootPayload({ version: 4, keys, threshold: 2 });
  const env = parseDsse(await signRoot({ payload, signers: keys.slice(0, 2) }), 1 << 20);
  assert.equal(env.payloadType, PAYLOAD_TYPES.root);
  assert.equal(env.signatures.length, 2);
  const set = rootKeySet(payload);
  assert.equal(set.threshold, 2);
  assert.deepEqual(set.keys.map((k) => k.publicKey), keys.map((k) => k.publicKey));
});
