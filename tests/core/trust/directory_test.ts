import assert from "node:assert/strict";
import { sha256Hex } from "../../../core/primitives/crypto/bytes.ts";
import type { SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import { type VerifiedRoot, verifyRootChain } from "../../../core/domain/trust/chain.ts";
import {
  buildDirectory,
  type DirectoryKeyInput,
  signDirectory,
  verifyDirectory,
} from "../../../core/domain/trust/directory.ts";
import { signRoot } from "../../../core/domain/trust/root.ts";
import { MemoryVersionStore } from "../../../core/domain/trust/version_store_memory.ts";
import { assertRefused, DAY, makeKeys, rootPayload, signRaw, T0 } from "./_fixtures.ts";

/** A syntactically valid age recipient, distinct per `n`. */
function ageRecipient(n: number): string {
  return "age1" + n.toString().padStart(58, "q");
}

async function setup(): Promise<{ dispatcher: SigningKey; root: VerifiedRoot; clock: FakeClock }> {
  const [dispatcher] = await makeKeys(1);
  const v1 = await signRoot({
    payload: rootPayload({ version: 1, keys: [dispatcher!], threshold: 1 }),
    signers: [dispatcher!],
  });
  const clock = new FakeClock(T0 + DAY);
  const root = await verifyRootChain({
    roots: [v1],
    pin: await sha256Hex(v1),
    clock,
    skewMs: 0,
    versionStore: new MemoryVersionStore(),
  });
  return { dispatcher: dispatcher!, root, clock };
}

function keyInput(key: SigningKey, n: number, from: number, until: number): DirectoryKeyInput {
  return {
    publicKey: key.publicKey,
    ageRecipient: ageRecipient(n),
    validFromMs: from,
    validUntilMs: until,
  };
}

async function directoryBytes(
  signer: SigningKey,
  agents: Record<string, readonly DirectoryKeyInput[]>,
  options: { version?: number; expiresAtMs?: number } = {},
): Promise<Uint8Array> {
  const payload = await buildDirectory({
    version: options.version ?? 1,
    issuedAtMs: T0,
    expiresAtMs: options.expiresAtMs ?? T0 + 30 * DAY,
    agents,
  });
  return signDirectory({ payload, signers: [signer] });
}

Deno.test("verifyDirectory() reports an absent agent as unknown", async () => {
  const { dispatcher, root, clock } = await setup();
  const [k] = await makeKeys(1);
  const bytes = await directoryBytes(dispatcher, { planner: [keyInput(k!, 1, T0, T0 + 10 * DAY)] });
  const dir = await verifyDirectory(bytes, {
    root,
    clock,
    skewMs: 0,
    versionStore: new MemoryVersionStore(),
  });
  assert.deepEqual(dir.senderKeys("intake", clock.now()), { status: "unknown" });
  await assertRefused(() => dir.currentKeys("intake", clock.now()), "unknown_sender");
  assert.deepEqual(dir.ageRecipients("intake", clock.now()), []);
});

Deno.test("verifyDirectory() gives the current key of an agent inside its window", async () => {
  const { dispatcher, root, clock } = await setup();
  const [k] = await makeKeys(1);
  const bytes = await directoryBytes(dispatcher, { planner: [keyInput(k!, 1, T0, T0 + 10 * DAY)] });
  const dir = await verifyDirectory(bytes, {
    root,
    clock,
    skewMs: 0,
    versionStore: new MemoryVersionStore(),
  });
  const keys = dir.senderKeys("planner", clock.now());
  assert.equal(keys.status, "ok");
  if (keys.status !== "ok") return;
  assert.deepEqual(keys.current.map((e) => e.publicKey), [k!.publicKey]);
  assert.equal(keys.current[0]!.keyid, k!.keyid);
  assert.deepEqual(keys.retired, []);
  assert.deepEqual(dir.ageRecipients("planner", clock.now()), [ageRecipient(1)]);
  assert.deepEqual(dir.agents(), ["planner"]);
  assert.equal(dir.currentKeys("planner", clock.now()).length, 1);
});

Deno.test("verifyDirectory() reports a key before its window as revoked", async () => {
  const { dispatcher, root, clock } = await setup();
  const [k] = await makeKeys(1);
  const from = T0 + 2 * DAY;
  const bytes = await directoryBytes(dispatcher, {
    planner: [keyInput(k!, 1, from, T0 + 10 * DAY)],
  });
  const dir = await verifyDirectory(bytes, {
    root,
    clock,
    skewMs: 0,
    versionStore: new MemoryVersionStore(),
  });
  const keys = dir.senderKeys("planner", clock.now());
  assert.equal(keys.status, "revoked");
  if (keys.status === "revoked") {
    assert.deepEqual(keys.retired.map((e) => e.publicKey), [k!.publicKey]);
  }
  await assertRefused(() => dir.currentKeys("planner", clock.now()), "revoked_key");
  assert.deepEqual(dir.ageRecipients("planner", clock.now()), []);
  assert.equal(dir.senderKeys("planner", from).status, "ok");
});

Deno.test("verifyDirectory() reports a key after its window as revoked", async () => {
  const { dispatcher, root, clock } = await setup();
  const [k] = await makeKeys(1);
  const until = T0 + DAY / 2;
  const bytes = await directoryBytes(dispatcher, { planner: [keyInput(k!, 1, T0, until)] });
  const dir = await verifyDirectory(bytes, {
    root,
    clock,
    skewMs: 0,
    versionStore: new MemoryVersionStore(),
  });
  assert.equal(dir.senderKeys("planner", clock.now()).status, "revoked");
  // the window is half-open: valid_until itself is already outside
  assert.equal(dir.senderKeys("planner", until).status, "revoked");
  assert.equal(dir.senderKeys("planner", until - 1).status, "ok");
});

Deno.test("verifyDirectory() reports an agent listed with zero keys as revoked", async () => {
  const { dispatcher, root, clock } = await setup();
  const bytes = await directoryBytes(dispatcher, { planner: [] });
  const dir = await verifyDirectory(bytes, {
    root,
    clock,
    skewMs: 0,
    versionStore: new MemoryVersionStore(),
  });
  assert.deepEqual(dir.senderKeys("planner", clock.now()), { status: "revoked", retired: [] });
});

Deno.test("verifyDirectory() separates current and retired keys during a key rotation", async () => {
  const { dispatcher, root, clock } = await setup();
  const [old, next] = await makeKeys(2);
  const bytes = await directoryBytes(dispatcher, {
    planner: [keyInput(old!, 1, T0, T0 + DAY / 2), keyInput(next!, 2, T0 + DAY / 2, T0 + 9 * DAY)],
  });
  const dir = await verifyDirectory(bytes, {
    root,
    clock,
    skewMs: 0,
    versionStore: new MemoryVersionStore(),
  });
  const keys = dir.senderKeys("planner", clock.now());
  assert.equal(keys.status, "ok");
  if (keys.status !== "ok") return;
  assert.deepEqual(keys.current.map((e) => e.publicKey), [next!.publicKey]);
  assert.deepEqual(keys.retired.map((e) => e.publicKey), [old!.publicKey]);
  assert.deepEqual(dir.ageRecipients("planner", clock.now()), [ageRecipient(2)]);
});

Deno.test("verifyDirectory() refuses a directory signed by a key outside the root", async () => {
  const { root, clock } = await setup();
  const [outsider, k] = await makeKeys(2);
  const bytes = await directoryBytes(outsider!, { planner: [keyInput(k!, 1, T0, T0 + DAY * 9)] });
  await assertRefused(
    () =>
      verifyDirectory(bytes, { root, clock, skewMs: 0, versionStore: new MemoryVersionStore() }),
    "dispatcher_signature",
  );
});

Deno.test("verifyDirectory() refuses a root statement offered as a directory", async () => {
  const { dispatcher, root, clock } = await setup();
  const payload = await buildDirectory({
    version: 1,
    issuedAtMs: T0,
    expiresAtMs: T0 + 9 * DAY,
    agents: {},
  });
  const bytes = await signRaw({ ...payload }, [dispatcher], PAYLOAD_TYPES.root);
  await assertRefused(
    () =>
      verifyDirectory(bytes, { root, clock, skewMs: 0, versionStore: new MemoryVersionStore() }),
    "wrong_payload_type",
  );
});

Deno.test("verifyDirectory() refuses an expired directory", async () => {
  const { dispatcher, root, clock } = await setup();
  const bytes = await directoryBytes(dispatcher, { planner: [] }, { expiresAtMs: T0 + DAY / 2 });
  await assertRefused(
    () =>
      verifyDirectory(bytes, { root, clock, skewMs: 0, versionStore: new MemoryVersionStore() }),
    "expired",
  );
});

Deno.test("verifyDirectory() refuses a directory version below the highest seen and keeps the store", async () => {
  const { dispatcher, root, clock } = await setup();
  const store = new MemoryVersionStore();
  const v2 = await directoryBytes(dispatcher, { planner: [] }, { version: 2 });
  const v1 = await directoryBytes(dispatcher, { planner: [] }, { version: 1 });
  await verifyDirectory(v2, { root, clock, skewMs: 0, versionStore: store });
  assert.equal(await store.highest("directory"), 2);
  await assertRefused(
    () => verifyDirectory(v1, { root, clock, skewMs: 0, versionStore: store }),
    "rollback",
  );
  assert.equal(await store.highest("directory"), 2);
});

Deno.test("verifyDirectory() refuses an agent listed twice and a key listed under two agents", async () => {
  const { dispatcher, root, clock } = await setup();
  const [k, other] = await makeKeys(2);
  const payload = await buildDirectory({
    version: 1,
    issuedAtMs: T0,
    expiresAtMs: T0 + 9 * DAY,
    agents: { planner: [keyInput(k!, 1, T0, T0 + 9 * DAY)] },
  });
  const twice = { ...payload, agents: [payload.agents[0]!, payload.agents[0]!] };
  const opts = { root, clock, skewMs: 0, versionStore: new MemoryVersionStore() };
  await assertRefused(
    async () => verifyDirectory(await signRaw(twice, [dispatcher], PAYLOAD_TYPES.directory), opts),
    "parse_error",
  );
  const shared = {
    ...payload,
    agents: [payload.agents[0]!, { agent: "intake", keys: payload.agents[0]!.keys }],
  };
  await assertRefused(
    async () => verifyDirectory(await signRaw(shared, [dispatcher], PAYLOAD_TYPES.directory), opts),
    "parse_error",
  );
  await assertRefused(
    () =>
      buildDirectory({
        version: 1,
        issuedAtMs: T0,
        expiresAtMs: T0 + DAY,
        agents: { planner: [keyInput(other!, 1, T0 + DAY, T0)] },
      }),
    "parse_error",
  );
  await assertRefused(
    () =>
      buildDirectory({
        version: 1,
        issuedAtMs: T0,
        expiresAtMs: T0 + DAY,
        agents: { planner: [{ ...keyInput(other!, 1, T0, T0 + DAY), ageRecipient: "age1short" }] },
      }),
    "parse_error",
  );
});

Deno.test("verifyDirectory() follows the root in force after a dispatcher rotation", async () => {
  const [old, next] = await makeKeys(2);
  const v1 = await signRoot({
    payload: rootPayload({ version: 1, keys: [old!], threshold: 1 }),
    signers: [old!],
  });
  const v2 = await signRoot({
    payload: rootPayload({ version: 2, keys: [next!], threshold: 1 }),
    signers: [old!, next!],
  });
  const clock = new FakeClock(T0 + DAY);
  const root = await verifyRootChain({
    roots: [v1, v2],
    pin: await sha256Hex(v1),
    clock,
    skewMs: 0,
    versionStore: new MemoryVersionStore(),
  });
  const opts = { root, clock, skewMs: 0, versionStore: new MemoryVersionStore() };
  await assertRefused(
    async () => verifyDirectory(await directoryBytes(old!, { planner: [] }), opts),
    "dispatcher_signature",
  );
  const dir = await verifyDirectory(await directoryBytes(next!, { planner: [] }), opts);
  assert.equal(dir.version, 1);
});
