import assert from "node:assert/strict";
import { CapsetStore } from "../../../core/domain/capset/store.ts";
import { signCapset } from "../../../core/domain/capset/sign.ts";
import type { CapsetSource } from "../../../core/domain/capset/types.ts";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import { dispatcher, expectCode, pipelineSources, TestVersionStore } from "./_fixtures.ts";

const T0 = Date.parse("2026-03-01T00:00:00Z");
const HOUR = 3_600_000;

function src(agent: string, version = 1): CapsetSource {
  return { ...pipelineSources().find((s) => s.agent === agent)!, version };
}

Deno.test("CapsetStore.inForce() serves a verified capset and re-checks expiry on every call", async () => {
  const d = await dispatcher();
  const clock = new FakeClock(T0);
  const bytes = await signCapset({
    source: src("planner"),
    signers: [d.key],
    issuedAt: T0,
    validForMs: HOUR,
  });
  const store = new CapsetStore({
    capsets: new Map([["planner", bytes]]),
    dispatcher: d.trusted,
    clock,
    skewMs: 0,
  });
  assert.equal((await store.inForce("planner")).agent, "planner");
  clock.advance(HOUR - 1);
  assert.equal((await store.inForce("planner")).version, 1);
  clock.advance(2);
  const err = await expectCode(() => store.inForce("planner"), "expired");
  assert.match(err, /planner/);
});

Deno.test("CapsetStore.inForce() re-verifies bytes swapped in the map", async () => {
  const d = await dispatcher();
  const stranger = await SigningKey.fromSeed(generateSeed());
  const good = await signCapset({
    source: src("planner"),
    signers: [d.key],
    issuedAt: T0,
    validForMs: HOUR,
  });
  const forged = await signCapset({
    source: src("planner", 2),
    signers: [stranger],
    issuedAt: T0,
    validForMs: HOUR,
  });
  const capsets = new Map([["planner", good]]);
  const store = new CapsetStore({
    capsets,
    dispatcher: d.trusted,
    clock: new FakeClock(T0),
    skewMs: 0,
  });
  await store.inForce("planner");
  capsets.set("planner", forged);
  await expectCode(() => store.inForce("planner"), "capset_signature");
  capsets.set("planner", good);
  assert.equal((await store.inForce("planner")).version, 1);
});

Deno.test("CapsetStore.inForce() re-verifies bytes edited in place", async () => {
  const d = await dispatcher();
  const bytes = await signCapset({
    source: src("planner"),
    signers: [d.key],
    issuedAt: T0,
    validForMs: HOUR,
  });
  const store = new CapsetStore({
    capsets: new Map([["planner", bytes]]),
    dispatcher: d.trusted,
    clock: new FakeClock(T0),
    skewMs: 0,
  });
  await store.inForce("planner");
  // flip one base64 character of the signature: the cached result must not be reused
  const text = new TextDecoder().decode(bytes);
  const at = text.lastIndexOf('"sig":"') + 8;
  bytes[at] = bytes[at] === "A".charCodeAt(0) ? "B".charCodeAt(0) : "A".charCodeAt(0);
  await expectCode(() => store.inForce("planner"), "capset_signature");
});

Deno.test("CapsetStore.inForce() reports a corrupt capset file as capset_signature", async () => {
  const d = await dispatcher();
  const store = new CapsetStore({
    capsets: new Map([["planner", new TextEncoder().encode('{"payloadType":')]]),
    dispatcher: d.trusted,
    clock: new FakeClock(T0),
    skewMs: 0,
  });
  const message = await expectCode(() => store.inForce("planner"), "capset_signature");
  assert.match(message, /\(parse_error\)$/);
});

Deno.test("CapsetStore.inForce() refuses an absent agent with a message naming it", async () => {
  const d = await dispatcher();
  const store = new CapsetStore({
    capsets: new Map(),
    dispatcher: d.trusted,
    clock: new FakeClock(T0),
    skewMs: 0,
  });
  const message = await expectCode(() => store.inForce("planner"), "capset_signature");
  assert.match(message, /"planner"/);
});

Deno.test("CapsetStore.inForce() refuses a capset stored under another agent's name", async () => {
  const d = await dispatcher();
  const bytes = await signCapset({
    source: src("planner"),
    signers: [d.key],
    issuedAt: T0,
    validForMs: HOUR,
  });
  const store = new CapsetStore({
    capsets: new Map([["deployment", bytes]]),
    dispatcher: d.trusted,
    clock: new FakeClock(T0),
    skewMs: 0,
  });
  const message = await expectCode(() => store.inForce("deployment"), "capset_signature");
  assert.match(message, /signed for agent "planner" \(forbidden_grant\)$/);
});

Deno.test("CapsetStore.inForce() refuses a swapped-in older version", async () => {
  const d = await dispatcher();
  const sign = (version: number) =>
    signCapset({
      source: src("planner", version),
      signers: [d.key],
      issuedAt: T0,
      validForMs: HOUR,
    });
  const capsets = new Map([["planner", await sign(5)]]);
  const store = new CapsetStore({
    capsets,
    dispatcher: d.trusted,
    clock: new FakeClock(T0),
    skewMs: 0,
    versionStore: new TestVersionStore(),
  });
  await store.inForce("planner");
  capsets.set("planner", await sign(4));
  const message = await expectCode(() => store.inForce("planner"), "capset_signature");
  assert.match(message, /version 4 is lower than version 5 already seen \(rollback\)$/);
});

Deno.test("CapsetStore.inForce() returns copies the caller cannot use to alter the cache", async () => {
  const d = await dispatcher();
  const bytes = await signCapset({
    source: src("planner"),
    signers: [d.key],
    issuedAt: T0,
    validForMs: HOUR,
  });
  const store = new CapsetStore({
    capsets: new Map([["planner", bytes]]),
    dispatcher: d.trusted,
    clock: new FakeClock(T0),
    skewMs: 0,
  });
  const first = await store.inForce("planner");
  first.sends.push({ to: "viewer", templates: ["x"] });
  assert.equal((await store.inForce("planner")).sends.length, 3);
});
