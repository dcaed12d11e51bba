import assert from "node:assert/strict";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import {
  type AuditEvent,
  buildEvent,
  decodeEvent,
  encodeEvent,
  EVENT_TYPES,
  MAX_EVENT_BYTES,
} from "../../../core/domain/ledger/events.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";

const SESSION = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const ENVELOPE = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

Deno.test("EVENT_TYPES lists the twenty-two event types of docs/design.md section 7", () => {
  assert.equal(EVENT_TYPES.length, 22);
  // the supervisor's sandbox records: a spawn refused (code_hash_mismatch), a stray moved aside
  assert.ok(EVENT_TYPES.includes("agent_refused"));
  assert.ok(EVENT_TYPES.includes("stray_moved"));
  assert.ok(EVENT_TYPES.includes("quarantine_limit_exceeded"));
  assert.ok(EVENT_TYPES.includes("checkpoint"));
  // why it exists is in docs/decisions.md: a refused change of the trust state
  assert.ok(EVENT_TYPES.includes("trust_refused"));
});

Deno.test("encodeEvent() writes fields in one fixed order and decodeEvent() reads them back", () => {
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
  const event = buildEvent({
    detail: { message: "bad" },
    reason: "bad_signature",
    envelope_id: ENVELOPE,
    session_id: SESSION,
    agent: "planner",
    type: "rejected",
  }, clock);
  const encoded = encodeEvent(event);
  assert.equal(
    new TextDecoder().decode(encoded),
    `{"type":"rejected","at":"2026-01-01T00:00:00.000Z","agent":"planner","session_id":"${SESSION}","envelope_id":"${ENVELOPE}","reason":"bad_signature","detail":{"message":"bad"}}`,
  );
  assert.deepEqual(decodeEvent(encoded), event);
});

Deno.test("decodeEvent() refuses an unknown field", () => {
  assert.throws(
    () => decodeEvent(bytes('{"type":"published","at":"2026-01-01T00:00:00Z","agent":"a","x":1}')),
    (err: unknown) => isSaoeError(err, "parse_error") && err.message.includes("$.x"),
  );
});

Deno.test("decodeEvent() refuses an unknown event type", () => {
  assert.throws(
    () => decodeEvent(bytes('{"type":"deleted","at":"2026-01-01T00:00:00Z","agent":"a"}')),
    (err: unknown) => isSaoeError(err, "parse_error") && err.message.includes("$.type"),
  );
});

Deno.test("decodeEvent() refuses a session id that is not a lowercase UUID", () => {
  const upper = SESSION.toUpperCase();
  assert.throws(
    () =>
      decodeEvent(
        bytes(
          `{"type":"published","at":"2026-01-01T00:00:00Z","agent":"a","session_id":"${upper}"}`,
        ),
      ),
    (err: unknown) => isSaoeError(err, "bad_identifier"),
  );
});

Deno.test("decodeEvent() refuses an agent id that could name a path", () => {
  assert.throws(
    () => decodeEvent(bytes('{"type":"published","at":"2026-01-01T00:00:00Z","agent":"../x"}')),
    (err: unknown) => isSaoeError(err, "bad_identifier"),
  );
});

Deno.test("decodeEvent() refuses a reason that is not a reason code", () => {
  assert.throws(
    () =>
      decodeEvent(
        bytes('{"type":"rejected","at":"2026-01-01T00:00:00Z","agent":"a","reason":"oops"}'),
      ),
    (err: unknown) => isSaoeError(err, "parse_error") && err.message.includes("$.reason"),
  );
});

Deno.test("decodeEvent() refuses duplicate keys", () => {
  assert.throws(
    () =>
      decodeEvent(
        bytes('{"type":"rejected","type":"validated","at":"2026-01-01T00:00:00Z","agent":"a"}'),
      ),
    (err: unknown) => isSaoeError(err, "duplicate_key"),
  );
});

Deno.test("encodeEvent() refuses an event larger than 64 KiB", () => {
  const event: AuditEvent = {
    type: "handler_error",
    at: "2026-01-01T00:00:00Z",
    agent: "planner",
    detail: { message: "x".repeat(MAX_EVENT_BYTES) },
  };
  assert.throws(() => encodeEvent(event), (err: unknown) => isSaoeError(err, "size_exceeded"));
});

Deno.test("encodeEvent() refuses an event with a malformed timestamp", () => {
  const event: AuditEvent = { type: "published", at: "yesterday", agent: "deployment" };
  assert.throws(() => encodeEvent(event), (err: unknown) => isSaoeError(err, "parse_error"));
});
