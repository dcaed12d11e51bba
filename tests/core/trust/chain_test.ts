import assert from "node:assert/strict";
import { sha256Hex } from "../../../core/primitives/crypto/bytes.ts";
import type { SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import { verifyRootChain, type VerifyRootChainOptions } from "../../../core/domain/trust/chain.ts";
import { signRoot } from "../../../core/domain/trust/root.ts";
import { MemoryVersionStore } from "../../../core/domain/trust/version_store_memory.ts";
import { assertRefused, DAY, makeKeys, relabel, rootPayload, signRaw, T0 } from "./_fixtures.ts";

/** Verifies `roots` pinned to the first, at T0 + 1 day, with a fresh store unless given. */
async function verify(
  roots: Uint8Array[],
  extra: Partial<VerifyRootChainOptions> = {},
): Promise<ReturnType<typeof verifyRootChain>> {
  return verifyRootChain({
    roots,
    pin: await sha256Hex(new Uint8Array(roots[0]!)),
    clock: new FakeClock(T0 + DAY),
    skewMs: 0,
    versionStore: new MemoryVersionStore(),
    ...extra,
  });
}

/** A chain of `rotations` + 1 single-key roots, each signed by its own and the previous key. */
async function linearChain(
  rotations: number,
  expiresAtMs?: (version: number) => number,
): Promise<{ roots: Uint8Array[]; keys: SigningKey[] }> {
  const keys = await makeKeys(rotations + 1);
  const roots: Uint8Array[] = [];
  for (let i = 0; i <= rotations; i++) {
    const signers = i === 0 ? [keys[0]!] : [keys[i - 1]!, keys[i]!];
    const fixture = { version: i + 1, keys: [keys[i]!], threshold: 1 };
    const expires = expiresAtMs?.(i + 1);
    const payload = rootPayload(
      expires === undefined ? fixture : { ...fixture, expiresAtMs: expires },
    );
    roots.push(await signRoot({ payload, signers }));
  }
  return { roots, keys };
}

Deno.test("verifyRootChain() accepts a pinned v1 signed by its own key and records version 1", async () => {
  const { roots, keys } = await linearChain(0);
  const store = new MemoryVersionStore();
  const root = await verify(roots, { versionStore: store });
  assert.equal(root.version, 1);
  assert.equal(root.threshold, 1);
  assert.deepEqual(root.trusted.keys[0]!.publicKey, keys[0]!.publicKey);
  assert.equal(await store.highest("root"), 1);
});

Deno.test("verifyRootChain() refuses a v1 with one byte changed", async () => {
  const { roots } = await linearChain(0);
  const pin = await sha256Hex(new Uint8Array(roots[0]!));
  const tampered = roots[0]!.slice();
  const at = new TextDecoder().decode(tampered).indexOf('"payload":"') + 20;
  tampered[at] = tampered[at] === 0x41 ? 0x42 : 0x41;
  await assertRefused(() => verify([tampered], { pin }), "root_pin_mismatch");
});

Deno.test("verifyRootChain() refuses a re-serialised but equivalent v1", async () => {
  const { roots } = await linearChain(0);
  const pin = await sha256Hex(new Uint8Array(roots[0]!));
  const text = JSON.stringify(JSON.parse(new TextDecoder().decode(roots[0]!)), null, 2);
  const reserialised = new TextEncoder().encode(text);
  // still a valid statement: only the pin can tell
  await verify([reserialised]);
  await assertRefused(() => verify([reserialised], { pin }), "root_pin_mismatch");
});

Deno.test("verifyRootChain() refuses a malformed pin and an empty chain", async () => {
  const { roots } = await linearChain(0);
  const pin = await sha256Hex(new Uint8Array(roots[0]!));
  await assertRefused(() => verify(roots, { pin: pin.toUpperCase() }), "bad_config");
  await assertRefused(() =>
    verifyRootChain({
      roots: [],
      pin,
      clock: new FakeClock(T0),
      skewMs: 0,
      versionStore: new MemoryVersionStore(),
    }), "root_pin_mismatch");
});

Deno.test("verifyRootChain() refuses a 2-of-3 root with 1 signature and accepts it with 2", async () => {
  const keys = await makeKeys(3);
  const payload = rootPayload({ version: 1, keys, threshold: 2 });
  await assertRefused(
    async () => verify([await signRoot({ payload, signers: [keys[1]!] })]),
    "root_signature",
  );
  const root = await verify([await signRoot({ payload, signers: [keys[0]!, keys[2]!] })]);
  assert.equal(root.threshold, 2);
  assert.equal(root.keys.length, 3);
});

Deno.test("verifyRootChain() refuses a 2-of-2 root whose two entries are the same key", async () => {
  const [a] = await makeKeys(1);
  const payload = rootPayload({ version: 1, keys: [a!, a!], threshold: 2 });
  payload.keys[1]!.keyid = "same-key-again";
  await assertRefused(
    async () => verify([await signRaw({ ...payload }, [a!, a!])]),
    "bad_threshold",
  );
});

Deno.test("verifyRootChain() does not count a signature under the key its keyid wrongly names", async () => {
  const [a, b] = await makeKeys(2);
  const payload = rootPayload({ version: 1, keys: [a!, b!], threshold: 2 });
  // two signatures by a, the second labelled as b's: still one distinct key
  const signed = await signRoot({ payload, signers: [a!, a!] });
  await assertRefused(() => verify([relabel(signed, 1, b!.keyid)]), "root_signature");
});

Deno.test("verifyRootChain() refuses a signature by an outside key labelled with a root key id", async () => {
  const [a, outsider] = await makeKeys(2);
  const payload = rootPayload({ version: 1, keys: [a!], threshold: 1 });
  const signed = await signRoot({ payload, signers: [outsider!] });
  await assertRefused(() => verify([relabel(signed, 0, a!.keyid)]), "root_signature");
});

Deno.test("verifyRootChain() refuses a statement of another payload type as a root", async () => {
  const [a] = await makeKeys(1);
  const payload = rootPayload({ version: 1, keys: [a!], threshold: 1 });
  const signed = await signRaw({ ...payload }, [a!], PAYLOAD_TYPES.directory);
  await assertRefused(() => verify([signed]), "wrong_payload_type");
});

Deno.test("verifyRootChain() refuses root v2 signed by only the old keys", async () => {
  const [old, next] = await makeKeys(2);
  const v1 = await signRoot({
    payload: rootPayload({ version: 1, keys: [old!], threshold: 1 }),
    signers: [old!],
  });
  const v2 = await signRoot({
    payload: rootPayload({ version: 2, keys: [next!], threshold: 1 }),
    signers: [old!],
  });
  await assertRefused(() => verify([v1, v2]), "root_signature");
});

Deno.test("verifyRootChain() refuses root v2 signed by only the new keys", async () => {
  const [old, next] = await makeKeys(2);
  const v1 = await signRoot({
    payload: rootPayload({ version: 1, keys: [old!], threshold: 1 }),
    signers: [old!],
  });
  const v2 = await signRoot({
    payload: rootPayload({ version: 2, keys: [next!], threshold: 1 }),
    signers: [next!],
  });
  await assertRefused(() => verify([v1, v2]), "root_signature");
});

Deno.test("verifyRootChain() accepts root v2 signed by the old and the new keys", async () => {
  const [old, next] = await makeKeys(2);
  const v1 = await signRoot({
    payload: rootPayload({ version: 1, keys: [old!], threshold: 1 }),
    signers: [old!],
  });
  const v2 = await signRoot({
    payload: rootPayload({ version: 2, keys: [next!], threshold: 1 }),
    signers: [old!, next!],
  });
  const store = new MemoryVersionStore();
  const root = await verify([v1, v2], { versionStore: store });
  assert.equal(root.version, 2);
  assert.deepEqual(root.keys.map((k) => k.publicKey), [next!.publicKey]);
  assert.equal(root.trusted.name, "dispatcher root v2");
  assert.equal(await store.highest("root"), 2);
});

Deno.test("verifyRootChain() needs a threshold of each k-of-n set across a rotation", async () => {
  const oldKeys = await makeKeys(3);
  const newKeys = await makeKeys(3);
  const v1 = await signRoot({
    payload: rootPayload({ version: 1, keys: oldKeys, threshold: 2 }),
    signers: oldKeys.slice(0, 2),
  });
  const v2payload = rootPayload({ version: 2, keys: newKeys, threshold: 2 });
  const short = await signRoot({
    payload: v2payload,
    signers: [oldKeys[0]!, ...newKeys.slice(0, 2)],
  });
  await assertRefused(() => verify([v1, short]), "root_signature");
  const enough = await signRoot({
    payload: v2payload,
    signers: [oldKeys[0]!, oldKeys[2]!, newKeys[1]!, newKeys[2]!],
  });
  assert.equal((await verify([v1, enough])).version, 2);
});

Deno.test("verifyRootChain() refuses a version gap from v1 to v3", async () => {
  const [old, next] = await makeKeys(2);
  const v1 = await signRoot({
    payload: rootPayload({ version: 1, keys: [old!], threshold: 1 }),
    signers: [old!],
  });
  const v3 = await signRoot({
    payload: rootPayload({ version: 3, keys: [next!], threshold: 1 }),
    signers: [old!, next!],
  });
  await assertRefused(() => verify([v1, v3]), "root_signature");
});

Deno.test("verifyRootChain() refuses a chain ending below the highest version seen and keeps the store", async () => {
  const { roots } = await linearChain(1);
  const store = new MemoryVersionStore({ root: 3 });
  await assertRefused(() => verify(roots, { versionStore: store }), "rollback");
  assert.equal(await store.highest("root"), 3);
});

Deno.test("verifyRootChain() accepts the same version again", async () => {
  const { roots } = await linearChain(1);
  const store = new MemoryVersionStore({ root: 2 });
  assert.equal((await verify(roots, { versionStore: store })).version, 2);
});

Deno.test("verifyRootChain() refuses an expired final root and does not record it", async () => {
  const { roots } = await linearChain(1, (v) => (v === 2 ? T0 + DAY / 2 : T0 + 365 * DAY));
  const store = new MemoryVersionStore();
  await assertRefused(() => verify(roots, { versionStore: store }), "expired");
  assert.equal(await store.highest("root"), 0);
});

Deno.test("verifyRootChain() accepts an expired intermediate root", async () => {
  const { roots } = await linearChain(2, (v) => (v === 3 ? T0 + 365 * DAY : T0 + DAY / 2));
  assert.equal((await verify(roots)).version, 3);
});

Deno.test("verifyRootChain() refuses a final root issued in the future beyond the skew", async () => {
  const [a] = await makeKeys(1);
  const payload = rootPayload({ version: 1, keys: [a!], threshold: 1, issuedAtMs: T0 + 2 * DAY });
  const v1 = await signRoot({ payload, signers: [a!] });
  await assertRefused(() => verify([v1]), "expired");
});

Deno.test("verifyRootChain() accepts exactly maxRotations rotations", async () => {
  const { roots } = await linearChain(3);
  assert.equal((await verify(roots, { maxRotations: 3 })).version, 4);
});

Deno.test("verifyRootChain() refuses maxRotations + 1 rotations before verifying anything", async () => {
  const { roots } = await linearChain(4);
  await assertRefused(() => verify(roots, { maxRotations: 3 }), "chain_too_long");
  // unverifiable bytes, a wrong pin: the count alone decides
  const junk = Array.from({ length: 34 }, () => new Uint8Array([1, 2, 3]));
  await assertRefused(() => verify(junk, { pin: "00".repeat(32) }), "chain_too_long");
});
