import assert from "node:assert/strict";
import { toBase64, utf8 } from "../../../core/primitives/crypto/bytes.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { signStatement } from "../../../core/primitives/dsse/sign.ts";
import type { JsonObject } from "../../../core/primitives/json/strict_parse.ts";
import type { RefusalIds } from "../../../core/primitives/errors.ts";
import {
  articleTemplate,
  buildWorld,
  capsetSource,
  ME,
  OTHER,
  SENDER,
  T0,
  TEMPLATE_ID,
} from "./_fixtures.ts";
import { countsThrough, expectRefusal } from "./_refusal.ts";

function idsOf(fields: JsonObject): RefusalIds {
  const template = fields.template as JsonObject;
  return {
    envelope_id: fields.envelope_id as string,
    session_id: fields.session_id as string,
    sender: fields.sender as string,
    receiver: fields.receiver as string,
    template_id: template.id as string,
  };
}

Deno.test("validate() accepts a valid envelope and returns its fields, template and bytes", async () => {
  const world = await buildWorld();
  const fields = world.fields();
  const bytes = await world.sign(fields);
  const before = world.counts();
  const ok = await world.validator.validate(bytes);
  assert.deepEqual(ok.envelope, fields);
  assert.equal(ok.template.id, TEMPLATE_ID);
  assert.deepEqual(ok.bytes, bytes);
  assert.deepEqual(world.counts(), {
    directory: before.directory + 1,
    capsets: [ME, SENDER, ME],
    vault: 1,
    quota: 1,
    replay: 1,
  });
  assert.deepEqual(world.replay.calls, [fields.envelope_id]);
});

Deno.test("validate() refuses an envelope over the capset's size cap with size_exceeded", async () => {
  const world = await buildWorld({ maxEnvelopeBytes: 1024 });
  const bytes = await world.sign(world.fields({ human_readable: "x".repeat(1500) }));
  await expectRefusal(world, bytes, { code: "size_exceeded", step: 1, ids: {} });
});

Deno.test("validate() refuses bytes that are not a DSSE document with parse_error", async () => {
  const world = await buildWorld();
  await expectRefusal(world, utf8('{"payloadType":"x",'), {
    code: "parse_error",
    step: 2,
    ids: {},
  });
  await expectRefusal(world, utf8('{"payloadType":"x","payload":"","signatures":[],"more":1}'), {
    code: "parse_error",
    step: 2,
    ids: {},
  });
});

Deno.test("validate() refuses a statement of another payload type with parse_error naming it", async () => {
  const world = await buildWorld();
  const bytes = await signStatement({
    payloadType: PAYLOAD_TYPES.capset,
    payload: world.fields(),
    signers: [world.keys.sender],
  });
  const err = await expectRefusal(world, bytes, { code: "parse_error", step: 2, ids: {} });
  assert.match(err.message, /capset\.v1\+json/);
});

Deno.test("validate() refuses a DSSE document with a duplicate key with duplicate_key", async () => {
  const world = await buildWorld();
  const good = JSON.parse(new TextDecoder().decode(await world.sign())) as JsonObject;
  const text = `{"payloadType":${JSON.stringify(good.payloadType)},"payload":${
    JSON.stringify(good.payload)
  },"payload":${JSON.stringify(toBase64(utf8("{}")))},"signatures":${
    JSON.stringify(good.signatures)
  }}`;
  await expectRefusal(world, utf8(text), { code: "duplicate_key", step: 2, ids: {} });
});

Deno.test("validate() refuses a payload with a duplicate key before any key is looked up", async () => {
  const world = await buildWorld();
  const inner = JSON.stringify(world.fields()).replace(/^\{/, `{"sender":"${OTHER}",`);
  const bytes = await signStatement({
    payloadType: PAYLOAD_TYPES.envelope,
    payload: utf8(inner),
    signers: [world.keys.sender],
  });
  await expectRefusal(world, bytes, {
    code: "duplicate_key",
    step: 3,
    ids: {},
    directoryAsked: false,
  });
});

Deno.test("validate() refuses a sender missing from the directory with unknown_sender", async () => {
  const world = await buildWorld();
  const bytes = await world.sign(world.fields({ sender: "stranger" }), world.keys.stranger);
  await expectRefusal(world, bytes, {
    code: "unknown_sender",
    step: 3,
    ids: { sender: "stranger" },
  });
});

Deno.test("validate() refuses a sender with no key valid now with revoked_key", async () => {
  const world = await buildWorld();
  const bytes = await world.sign();
  world.directory.revoke(SENDER, T0);
  await expectRefusal(world, bytes, { code: "revoked_key", step: 3, ids: { sender: SENDER } });
});

Deno.test("validate() refuses an envelope signed by the sender's retired key with revoked_key", async () => {
  const world = await buildWorld();
  const bytes = await world.sign(world.fields(), world.keys.retired);
  await expectRefusal(world, bytes, { code: "revoked_key", step: 4, ids: { sender: SENDER } });
});

Deno.test("validate() refuses a signature by another agent's valid key with bad_signature", async () => {
  const world = await buildWorld();
  // OTHER's key is in the directory and current, but it does not belong to SENDER
  const bytes = await world.sign(world.fields(), world.keys.other);
  await expectRefusal(world, bytes, { code: "bad_signature", step: 4, ids: { sender: SENDER } });
  const stranger = await world.sign(world.fields(), world.keys.stranger);
  await expectRefusal(world, stranger, { code: "bad_signature", step: 4, ids: { sender: SENDER } });
});

Deno.test("validate() refuses a payload changed after signing with bad_signature", async () => {
  const world = await buildWorld();
  const doc = JSON.parse(new TextDecoder().decode(await world.sign())) as {
    payload: string;
    [k: string]: unknown;
  };
  const payload = JSON.parse(new TextDecoder().decode(Uint8Array.fromBase64(doc.payload)));
  payload.payload.title = "Changed";
  doc.payload = toBase64(utf8(JSON.stringify(payload)));
  await expectRefusal(world, utf8(JSON.stringify(doc)), {
    code: "bad_signature",
    step: 4,
    ids: { sender: SENDER },
  });
});

Deno.test("validate() refuses a signed envelope of version 2 with unsupported_version", async () => {
  const world = await buildWorld();
  const fields = world.fields({ version: "2" });
  await expectRefusal(world, await world.sign(fields), {
    code: "unsupported_version",
    step: 5,
    ids: idsOf(fields),
  });
});

Deno.test("validate() refuses a signed payload with an unknown field with parse_error", async () => {
  const world = await buildWorld();
  const fields = world.fields({ priority: "high" });
  await expectRefusal(world, await world.sign(fields), {
    code: "parse_error",
    step: 5,
    ids: idsOf(fields),
  });
});

for (
  const [what, sessionId] of [
    ["a path traversal", "../../etc/passwd"],
    ["upper case", "0190F3A2-7B1C-7DEF-8A12-3456789ABCDE"],
    ["a trailing newline", "0190f3a2-7b1c-7def-8a12-3456789abcde\n"],
  ]
) {
  Deno.test(`validate() refuses a session id with ${what} with bad_identifier`, async () => {
    const world = await buildWorld();
    const fields = world.fields({ session_id: sessionId });
    const { session_id: _, ...ids } = idsOf(fields);
    await expectRefusal(world, await world.sign(fields), {
      code: "bad_identifier",
      step: 5,
      ids,
    });
  });
}

Deno.test("validate() refuses a sender that is not an agent id with bad_identifier before the directory", async () => {
  const world = await buildWorld();
  for (const sender of ["../planner", "Planner", 7]) {
    const bytes = await world.sign(world.fields({ sender }));
    await expectRefusal(world, bytes, {
      code: "bad_identifier",
      step: 3,
      ids: {},
      directoryAsked: false,
    });
  }
});

Deno.test("validate() refuses an expired envelope with expired", async () => {
  const world = await buildWorld();
  const fields = world.fields();
  const bytes = await world.sign(fields);
  world.clock.advance(600_000 + 60_001); // ttl plus the allowed skew
  await expectRefusal(world, bytes, { code: "expired", step: 5, ids: idsOf(fields) });
});

Deno.test("validate() refuses an envelope issued beyond the clock skew with expired", async () => {
  const world = await buildWorld();
  world.clock.advance(120_000);
  const fields = world.fields();
  world.clock.advance(-120_000);
  await expectRefusal(world, await world.sign(fields), {
    code: "expired",
    step: 5,
    ids: idsOf(fields),
  });
});

Deno.test("validate() refuses an envelope for another agent with receiver_mismatch before the vault", async () => {
  const world = await buildWorld();
  const fields = world.fields({ receiver: "deployment" });
  await expectRefusal(world, await world.sign(fields), {
    code: "receiver_mismatch",
    step: 6,
    ids: idsOf(fields),
  });
  // only the step-1 size lookup of the own capset: no sender capset, no vault
  assert.deepEqual(world.capsets.calls, [ME]);
  assert.equal(world.vault.calls.length, 0);
});

Deno.test("validate() refuses an edge the sender's capset does not send with edge_not_allowed", async () => {
  const world = await buildWorld({
    senderCapset: (base) => ({ ...base, sends: [{ to: "deployment", templates: [TEMPLATE_ID] }] }),
  });
  const fields = world.fields();
  const err = await expectRefusal(world, await world.sign(fields), {
    code: "edge_not_allowed",
    step: 7,
    ids: idsOf(fields),
  });
  assert.match(err.message, /the sender's capability set/);
});

Deno.test("validate() refuses an edge the receiver's capset does not receive with edge_not_allowed", async () => {
  const world = await buildWorld({
    myCapset: (base) => ({ ...base, receives: [{ from: OTHER, templates: [TEMPLATE_ID] }] }),
  });
  const fields = world.fields();
  const err = await expectRefusal(world, await world.sign(fields), {
    code: "edge_not_allowed",
    step: 7,
    ids: idsOf(fields),
    senderCapsetAsked: false,
  });
  assert.match(err.message, /the receiver's capability set/);
});

Deno.test("validate() refuses a template version missing from the vault with vault_resolution", async () => {
  const world = await buildWorld();
  const fields = world.fields({
    template: { id: TEMPLATE_ID, version: 2, sha256: world.templateSha256 },
  });
  await expectRefusal(world, await world.sign(fields), {
    code: "vault_resolution",
    step: 8,
    ids: idsOf(fields),
  });
});

Deno.test("validate() refuses a template outside the receiver's vault scope with vault_access", async () => {
  const world = await buildWorld({ myCapset: (base) => ({ ...base, vault: ["other_template"] }) });
  const fields = world.fields();
  await expectRefusal(world, await world.sign(fields), {
    code: "vault_access",
    step: 8,
    ids: idsOf(fields),
  });
  assert.deepEqual(world.vault.calls[0]?.scope, ["other_template"]);
});

Deno.test("validate() refuses an envelope naming another template digest with template_hash_mismatch", async () => {
  const world = await buildWorld();
  const fields = world.fields({
    template: { id: TEMPLATE_ID, version: 1, sha256: "ab".repeat(32) },
  });
  await expectRefusal(world, await world.sign(fields), {
    code: "template_hash_mismatch",
    step: 9,
    ids: idsOf(fields),
  });
});

Deno.test("validate() refuses a template whose plaintext was edited with template_hash_mismatch", async () => {
  const world = await buildWorld();
  await world.vault.put(articleTemplate(), { tamper: true });
  const fields = world.fields();
  await expectRefusal(world, await world.sign(fields), {
    code: "template_hash_mismatch",
    step: 9,
    ids: idsOf(fields),
  });
});

Deno.test("validate() refuses a template manifest not signed by the dispatcher with dispatcher_signature", async () => {
  const world = await buildWorld();
  await world.vault.put(articleTemplate(), { signer: world.keys.stranger });
  const fields = world.fields();
  await expectRefusal(world, await world.sign(fields), {
    code: "dispatcher_signature",
    step: 9,
    ids: idsOf(fields),
  });
});

Deno.test("validate() refuses when the capset in force is no longer dispatcher-signed with capset_signature", async () => {
  const world = await buildWorld();
  const fields = world.fields();
  const bytes = await world.sign(fields);
  // the receiver's capset is replaced by a forged one while the template resolves
  world.vault.onResolve = () =>
    world.capsets.put(
      capsetSource(ME, {
        receives: [{ from: SENDER, templates: [TEMPLATE_ID] }],
        vault: [TEMPLATE_ID],
      }),
      { signer: world.keys.stranger },
    );
  await expectRefusal(world, bytes, { code: "capset_signature", step: 10, ids: idsOf(fields) });
});

Deno.test("validate() refuses a payload that does not match the template schema with schema", async () => {
  const world = await buildWorld();
  const fields = world.fields({ payload: { headline: "Hello" } });
  await expectRefusal(world, await world.sign(fields), {
    code: "schema",
    step: 11,
    ids: idsOf(fields),
  });
});

Deno.test("validate() refuses a sender the template policy does not allow with sender_not_allowed", async () => {
  const world = await buildWorld({ policy: { allowed_senders: [SENDER] } });
  const fields = world.fields({ sender: OTHER });
  await expectRefusal(world, await world.sign(fields, world.keys.other), {
    code: "sender_not_allowed",
    step: 12,
    ids: idsOf(fields),
    sender: OTHER,
  });
});

Deno.test("validate() refuses a receiver the template policy does not allow with receiver_not_allowed", async () => {
  const world = await buildWorld({ policy: { allowed_receivers: ["deployment"] } });
  const fields = world.fields();
  await expectRefusal(world, await world.sign(fields), {
    code: "receiver_not_allowed",
    step: 12,
    ids: idsOf(fields),
  });
});

Deno.test("validate() refuses a payload over the template's byte limit with payload_too_large", async () => {
  const world = await buildWorld({ policy: { max_payload_bytes: 100 } });
  // 60 two-byte characters: 60 UTF-16 units but 120 UTF-8 bytes plus the JSON around them
  const fields = world.fields({ payload: { title: "é".repeat(60) } });
  await expectRefusal(world, await world.sign(fields), {
    code: "payload_too_large",
    step: 12,
    ids: idsOf(fields),
  });
});

Deno.test("validate() refuses a sender over its quota with quota_exceeded, without burning the id", async () => {
  const world = await buildWorld({ quotaPerMinute: 2 });
  await world.validator.validate(await world.sign());
  world.clock.advance(1_000);
  await world.validator.validate(await world.sign());
  world.clock.advance(1_000);
  const fields = world.fields();
  const bytes = await world.sign(fields);
  await expectRefusal(world, bytes, { code: "quota_exceeded", step: 13, ids: idsOf(fields) });
  assert.equal(world.replay.calls.length, 2);
  // once the first acceptance leaves the 60 s window the same envelope is accepted
  world.clock.advance(58_000);
  const ok = await world.validator.validate(bytes);
  assert.equal(ok.envelope.envelope_id, fields.envelope_id);
});

Deno.test("validate() refuses the second delivery of one envelope with replay", async () => {
  const world = await buildWorld();
  const fields = world.fields();
  const bytes = await world.sign(fields);
  await world.validator.validate(bytes);
  await expectRefusal(world, bytes, { code: "replay", step: 14, ids: idsOf(fields) });
});

Deno.test("validate() claims no envelope id when an earlier step refuses", async () => {
  const world = await buildWorld();
  const fields = world.fields({ payload: { headline: "Hello" } });
  const bytes = await world.sign(fields);
  await expectRefusal(world, bytes, { code: "schema", step: 11, ids: idsOf(fields) });
  assert.deepEqual(world.replay.calls, []);
  assert.deepEqual(countsThrough({ code: "schema", step: 11, ids: {} }).replay, 0);
});
