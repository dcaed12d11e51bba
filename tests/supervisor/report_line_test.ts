import assert from "node:assert/strict";
import { SaoeError } from "../../core/primitives/errors.ts";
import { generateSeed, SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { signStatement } from "../../core/primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../core/primitives/dsse/types.ts";
import { buildEvent, encodeEvent, type EventFields } from "../../core/domain/ledger/events.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import {
  checkReportLine,
  type CurrentKeys,
  MAX_REPORT_LINE_BYTES,
} from "../../core/services/supervisor/report_line.ts";

const planner = await SigningKey.fromSeed(generateSeed());
const intake = await SigningKey.fromSeed(generateSeed());
const directory: CurrentKeys = {
  currentKeys(agent) {
    if (agent === "planner") return [planner];
    if (agent === "intake") return [intake];
    throw new SaoeError("unknown_sender", `Agent ${agent} is not in the directory`);
  },
};
const options = { agent: "planner", directory, clock: systemClock };

function eventLine(
  fields: EventFields,
  signer: SigningKey,
  payloadType: string = PAYLOAD_TYPES.auditEvent,
): Promise<Uint8Array> {
  return signStatement({
    payloadType,
    payload: encodeEvent(buildEvent(fields)),
    signers: [signer],
  });
}

async function refusal(line: Uint8Array): Promise<string> {
  try {
    await checkReportLine(line, options);
  } catch (err: unknown) {
    if (err instanceof SaoeError) return err.code;
    throw err;
  }
  throw new Error("the line was accepted");
}

Deno.test("checkReportLine() accepts the readiness line", async () => {
  const r = await checkReportLine(new TextEncoder().encode('{"ready":true}'), options);
  assert.equal(r.kind, "ready");
});

Deno.test("checkReportLine() reads the loopback address a ready line reports, and nothing else", async () => {
  const encode = (s: string) => new TextEncoder().encode(s);
  const r = await checkReportLine(encode('{"ready":true,"listen":"127.0.0.1:4711"}'), options);
  assert.deepEqual(r, { kind: "ready", listen: "127.0.0.1:4711" });
  for (
    const bad of [
      '{"ready":true,"listen":"10.0.0.1:80"}',
      '{"ready":true,"listen":"127.0.0.1:70000"}',
      '{"ready":true,"listen":"127.0.0.1:0"}',
      '{"ready":true,"listen":"127.0.0.1:80","x":1}',
      '{"listen":"127.0.0.1:80","ready":true}',
    ]
  ) {
    assert.equal(await refusal(encode(bad)), "parse_error", bad);
  }
});

Deno.test("checkReportLine() returns the exact event bytes an agent signed about itself", async () => {
  const payload = encodeEvent(buildEvent({ type: "plan_issued", agent: "planner" }));
  const line = await signStatement({
    payloadType: PAYLOAD_TYPES.auditEvent,
    payload,
    signers: [planner],
  });
  const r = await checkReportLine(line, options);
  assert.equal(r.kind, "event");
  if (r.kind !== "event") return;
  assert.deepEqual(r.bytes, payload);
  assert.equal(r.event.type, "plan_issued");
});

Deno.test("checkReportLine() refuses an event signed with another agent's key", async () => {
  const line = await eventLine({ type: "plan_issued", agent: "planner" }, intake);
  assert.equal(await refusal(line), "bad_signature");
});

Deno.test("checkReportLine() refuses an event that names another agent", async () => {
  const line = await eventLine({ type: "intake_accepted", agent: "intake" }, planner);
  assert.equal(await refusal(line), "sender_not_allowed");
});

Deno.test("checkReportLine() refuses supervisor-only event types from an agent", async () => {
  for (
    const type of ["agent_started", "agent_exited", "sandbox_violation", "checkpoint"] as const
  ) {
    const line = await eventLine({ type, agent: "planner" }, planner);
    assert.equal(await refusal(line), "sender_not_allowed", type);
  }
});

Deno.test("checkReportLine() refuses another payload type, malformed lines and duplicate keys", async () => {
  const envelope = await eventLine(
    { type: "plan_issued", agent: "planner" },
    planner,
    PAYLOAD_TYPES.envelope,
  );
  assert.equal(await refusal(envelope), "wrong_payload_type");
  assert.equal(await refusal(new TextEncoder().encode("hello")), "parse_error");
  assert.equal(
    await refusal(new TextEncoder().encode('{"ready":true,"ready":true}')),
    "duplicate_key",
  );
  assert.equal(await refusal(new TextEncoder().encode('{"ready": true}')), "parse_error");
});

Deno.test("checkReportLine() refuses an over-long line before parsing it", async () => {
  const line = new Uint8Array(MAX_REPORT_LINE_BYTES + 1).fill(0x20);
  assert.equal(await refusal(line), "size_exceeded");
});
