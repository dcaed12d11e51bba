import assert from "node:assert/strict";
import { signCapset } from "../../../core/domain/capset/sign.ts";
import { capsetVersionKey, verifyCapset } from "../../../core/domain/capset/verify.ts";
import type { CapsetSource } from "../../../core/domain/capset/types.ts";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { signStatement } from "../../../core/primitives/dsse/sign.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import { dispatcher, expectCode, pipelineSources, TestVersionStore } from "./_fixtures.ts";

const T0 = Date.parse("2026-03-01T00:00:00Z");
const DAY = 86_400_000;

function planner(version = 1): CapsetSource {
  const src = pipelineSources().find((s) => s.agent === "planner")!;
  return { ...src, version };
}

Deno.test("verifyCapset() returns the signed capset with its validity window", async () => {
  const d = await dispatcher();
  const bytes = await signCapset({
    source: planner(),
    signers: [d.key],
    issuedAt: T0,
    validForMs: DAY,
  });
  const capset = await verifyCapset(bytes, {
    dispatcher: d.trusted,
    clock: new FakeClock(T0 + 1000),
    skewMs: 0,
    expectedAgent: "planner",
  });
  assert.deepEqual(capset, {
    ...planner(),
    issued_at: "2026-03-01T00:00:00.000Z",
    expires_at: "2026-03-02T00:00:00.000Z",
  });
  const envelope = JSON.parse(new TextDecoder().decode(bytes));
  assert.equal(envelope.payloadType, PAYLOAD_TYPES.capset);
});

Deno.test("verifyCapset() refuses a capset with one payload byte edited without re-signing", async () => {
  const d = await dispatcher();
  const bytes = await signCapset({
    source: planner(),
    signers: [d.key],
    issuedAt: T0,
    validForMs: DAY,
  });
  const envelope = JSON.parse(new TextDecoder().decode(bytes));
  const payload = Uint8Array.fromBase64(envelope.payload);
  const at = new TextDecoder().decode(payload).indexOf('"version":1') + '"version":'.length;
  payload[at] = "9".charCodeAt(0);
  envelope.payload = payload.toBase64();
  const edited = new TextEncoder().encode(JSON.stringify(envelope));
  const message = await expectCode(
    () => verifyCapset(edited, { dispatcher: d.trusted, clock: new FakeClock(T0), skewMs: 0 }),
    "capset_signature",
  );
  assert.match(message, /0 of the required 1 signatures by dispatcher/);
});

Deno.test("verifyCapset() refuses a capset signed by a key that is not the dispatcher's", async () => {
  const d = await dispatcher();
  const stranger = await SigningKey.fromSeed(generateSeed());
  const bytes = await signCapset({
    source: planner(),
    signers: [stranger],
    issuedAt: T0,
    validForMs: DAY,
  });
  await expectCode(
    () => verifyCapset(bytes, { dispatcher: d.trusted, clock: new FakeClock(T0), skewMs: 0 }),
    "capset_signature",
  );
});

Deno.test("verifyCapset() refuses an expired capset and one issued in the future", async () => {
  const d = await dispatcher();
  const bytes = await signCapset({
    source: planner(),
    signers: [d.key],
    issuedAt: T0,
    validForMs: DAY,
  });
  const clock = new FakeClock(T0 + DAY + 5_000);
  const options = { dispatcher: d.trusted, clock, skewMs: 5_000 };
  await verifyCapset(bytes, options); // within the skew
  clock.advance(1);
  await expectCode(() => verifyCapset(bytes, options), "expired");
  clock.set(T0 - 5_001);
  await expectCode(() => verifyCapset(bytes, options), "expired");
});

Deno.test("verifyCapset() refuses a valid capset presented as another agent's", async () => {
  const d = await dispatcher();
  const bytes = await signCapset({
    source: planner(),
    signers: [d.key],
    issuedAt: T0,
    validForMs: DAY,
  });
  const message = await expectCode(
    () =>
      verifyCapset(bytes, {
        dispatcher: d.trusted,
        clock: new FakeClock(T0),
        skewMs: 0,
        expectedAgent: "deployment",
      }),
    "forbidden_grant",
  );
  assert.match(message, /"deployment".*signed for agent "planner"/);
});

Deno.test("verifyCapset() refuses a lower version than one already seen and raises the store", async () => {
  const d = await dispatcher();
  const store = new TestVersionStore();
  const options = {
    dispatcher: d.trusted,
    clock: new FakeClock(T0),
    skewMs: 0,
    versionStore: store,
  };
  const sign = (version: number) =>
    signCapset({ source: planner(version), signers: [d.key], issuedAt: T0, validForMs: DAY });
  await verifyCapset(await sign(3), options);
  assert.equal(await store.highest(capsetVersionKey("planner")), 3);
  await verifyCapset(await sign(3), options); // the same version again is not a rollback
  await expectCode(async () => verifyCapset(await sign(2), options), "rollback");
  await verifyCapset(await sign(4), options);
  assert.equal(await store.highest("capset:planner"), 4);
});

Deno.test("verifyCapset() leaves the version store untouched when the capset is refused", async () => {
  const d = await dispatcher();
  const store = new TestVersionStore();
  const bytes = await signCapset({
    source: planner(7),
    signers: [d.key],
    issuedAt: T0,
    validForMs: DAY,
  });
  await expectCode(
    () =>
      verifyCapset(bytes, {
        dispatcher: d.trusted,
        clock: new FakeClock(T0 + 2 * DAY),
        skewMs: 0,
        versionStore: store,
      }),
    "expired",
  );
  assert.equal(await store.highest("capset:planner"), 0);
});

Deno.test("verifyCapset() refuses a dispatcher-signed statement of another payload type", async () => {
  const d = await dispatcher();
  const bytes = await signStatement({
    payloadType: PAYLOAD_TYPES.envelope,
    payload: {
      ...planner(),
      issued_at: "2026-03-01T00:00:00Z",
      expires_at: "2026-03-02T00:00:00Z",
    },
    signers: [d.key],
  });
  await expectCode(
    () => verifyCapset(bytes, { dispatcher: d.trusted, clock: new FakeClock(T0), skewMs: 0 }),
    "wrong_payload_type",
  );
});

Deno.test("verifyCapset() refuses a signed payload with an unknown field", async () => {
  const d = await dispatcher();
  const bytes = await signStatement({
    payloadType: PAYLOAD_TYPES.capset,
    payload: {
      ...planner(),
      allow_run: true,
      issued_at: "2026-03-01T00:00:00Z",
      expires_at: "2026-03-02T00:00:00Z",
    },
    signers: [d.key],
  });
  await expectCode(
    () => verifyCapset(bytes, { dispatcher: d.trusted, clock: new FakeClock(T0), skewMs: 0 }),
    "parse_error",
  );
});

Deno.test("signCapset() refuses to sign a source with a field the decoder does not know", async () => {
  const d = await dispatcher();
  const hostile = { ...planner(), net_any: true } as unknown as CapsetSource;
  await expectCode(
    () => signCapset({ source: hostile, signers: [d.key], issuedAt: T0, validForMs: DAY }),
    "parse_error",
  );
  await assert.rejects(
    () => signCapset({ source: planner(), signers: [d.key], issuedAt: T0, validForMs: 0 }),
    RangeError,
  );
});
