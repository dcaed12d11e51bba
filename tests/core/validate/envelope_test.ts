import assert from "node:assert/strict";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { parseDsse } from "../../../core/primitives/dsse/parse.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { verifyStatement } from "../../../core/primitives/dsse/verify.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import {
  createEnvelope,
  decodeEnvelope,
  type Envelope,
  envelopeFileName,
  peekEnvelopeIds,
  signEnvelope,
} from "../../../core/domain/validate/envelope.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const SHA = "ab".repeat(32);

function sample(clock = new FakeClock(T0)): Envelope {
  return createEnvelope({
    sender: "planner",
    receiver: "deployment",
    template: { id: "article", version: 3, sha256: SHA },
    payload: { title: "Hi", tags: ["a"] },
    human_readable: "An article",
    clock,
    ttlMs: 60_000,
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err: unknown) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

Deno.test("createEnvelope() fills version, fresh ids and the validity window", () => {
  const env = sample();
  assert.equal(env.version, "1");
  assert.match(env.envelope_id, /^[0-9a-f-]{36}$/);
  assert.notEqual(env.envelope_id, env.session_id);
  assert.equal(env.issued_at, "2026-01-01T00:00:00.000Z");
  assert.equal(env.expires_at, "2026-01-01T00:01:00.000Z");
});

Deno.test("createEnvelope() refuses a bad identifier instead of building a bad envelope", () => {
  assert.equal(
    codeOf(() =>
      createEnvelope({
        sender: "planner",
        receiver: "../deployment",
        template: { id: "article", version: 1, sha256: SHA },
        payload: {},
      })
    ),
    "bad_identifier",
  );
});

Deno.test("signEnvelope() signs the envelope payload type over the exact payload", async () => {
  const key = await SigningKey.fromSeed(generateSeed());
  const env = sample();
  const bytes = await signEnvelope({ fields: env, signer: key });
  assert.equal(parseDsse(bytes, 1 << 16).payloadType, PAYLOAD_TYPES.envelope);
  const verified = await verifyStatement(bytes, {
    payloadType: PAYLOAD_TYPES.envelope,
    trusted: [{ name: "planner", keys: [key], threshold: 1 }],
    signatureCode: "bad_signature",
    what: "envelope",
    decode: decodeEnvelope,
    clock: new FakeClock(T0),
    skewMs: 0,
    maxBytes: 1 << 16,
  });
  assert.deepEqual(verified.payload, env);
});

Deno.test("decodeEnvelope() refuses another version as unsupported_version, before its fields", () => {
  assert.equal(codeOf(() => decodeEnvelope({ version: "2", extra: true })), "unsupported_version");
  assert.equal(codeOf(() => decodeEnvelope({ ...sample(), version: 1 })), "unsupported_version");
});

Deno.test("decodeEnvelope() refuses unknown, missing and mistyped fields as parse_error", () => {
  const env = sample();
  assert.equal(codeOf(() => decodeEnvelope({ ...env, extra: 1 })), "parse_error");
  const { human_readable: _, ...missing } = env;
  assert.equal(codeOf(() => decodeEnvelope(missing)), "parse_error");
  assert.equal(codeOf(() => decodeEnvelope({ ...env, payload: [] })), "parse_error");
  assert.equal(
    codeOf(() => decodeEnvelope({ ...env, human_readable: "x".repeat(2001) })),
    "parse_error",
  );
  assert.equal(
    codeOf(() => decodeEnvelope({ ...env, template: { ...env.template, version: "3" } })),
    "parse_error",
  );
});

Deno.test("decodeEnvelope() refuses malformed identifiers as bad_identifier", () => {
  const env = sample();
  const bad: Record<string, unknown>[] = [
    { session_id: "../../etc" },
    { session_id: env.session_id.toUpperCase() },
    { session_id: `${env.session_id}\n` },
    { envelope_id: `${env.envelope_id}/x` },
    { sender: "Planner" },
    { receiver: "planner\n" },
    { template: { ...env.template, id: "../article" } },
    { template: { ...env.template, sha256: SHA.toUpperCase() } },
  ];
  for (const override of bad) {
    assert.equal(
      codeOf(() => decodeEnvelope({ ...env, ...override })),
      "bad_identifier",
      JSON.stringify(override),
    );
  }
});

Deno.test("peekEnvelopeIds() returns only the ids that match their patterns", () => {
  const env = sample();
  assert.deepEqual(peekEnvelopeIds({ ...env, session_id: "../x", receiver: 5 }), {
    envelope_id: env.envelope_id,
    sender: "planner",
    template_id: "article",
  });
  assert.deepEqual(peekEnvelopeIds("nope"), {});
});

Deno.test("envelopeFileName() names a file <envelope_id>.satl and refuses a bad id", () => {
  const env = sample();
  assert.equal(envelopeFileName(env.envelope_id), `${env.envelope_id}.satl`);
  assert.equal(codeOf(() => envelopeFileName("../../x")), "bad_identifier");
});
