import assert from "node:assert/strict";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { signStatement } from "../../../core/primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { signPlan, verifyPlan } from "../../../core/domain/toolgate/plan.ts";
import { argProblem } from "../../../core/domain/toolgate/checks.ts";
import { clock, expectCode, NOW } from "./_fixtures.ts";

const planner = await SigningKey.fromSeed(generateSeed());
const plannerKeys = { name: "planner", keys: [planner], threshold: 1 };
const options = { planner: plannerKeys, clock, skewMs: 0 };

function source(calls = [{ id: "c1", tool: "markdown_to_html", args: {} }]) {
  return {
    plan_id: crypto.randomUUID(),
    session_id: crypto.randomUUID(),
    envelope_id: crypto.randomUUID(),
    issuer: "planner",
    calls,
  };
}

Deno.test("verifyPlan() accepts a plan signed by the planner", async () => {
  const plan = source();
  const bytes = await signPlan({ plan, signers: [planner], issuedAt: NOW, validForMs: 60_000 });
  const verified = await verifyPlan(bytes, options);
  assert.equal(verified.plan_id, plan.plan_id);
  assert.deepEqual(verified.calls, plan.calls);
});

Deno.test("verifyPlan() refuses a plan signed by another key", async () => {
  const forger = await SigningKey.fromSeed(generateSeed());
  const bytes = await signPlan({
    plan: source(),
    signers: [forger],
    issuedAt: NOW,
    validForMs: 60_000,
  });
  await expectCode(verifyPlan(bytes, options), "bad_signature");
});

Deno.test("verifyPlan() refuses an expired plan and one issued in the future", async () => {
  const old = await signPlan({
    plan: source(),
    signers: [planner],
    issuedAt: NOW - 120_000,
    validForMs: 60_000,
  });
  await expectCode(verifyPlan(old, options), "expired");
  const future = await signPlan({
    plan: source(),
    signers: [planner],
    issuedAt: NOW + 600_000,
    validForMs: 60_000,
  });
  await expectCode(verifyPlan(future, options), "expired");
});

Deno.test("verifyPlan() refuses an issuer other than the planner even with the planner's key", async () => {
  const bytes = await signPlan({
    plan: { ...source(), issuer: "deployment" },
    signers: [planner],
    issuedAt: NOW,
    validForMs: 60_000,
  });
  await expectCode(verifyPlan(bytes, options), "sender_not_allowed");
});

Deno.test("verifyPlan() refuses malformed plans: no calls, duplicate ids, unknown fields", async () => {
  const sign = (payload: Record<string, unknown>) =>
    signStatement({
      payloadType: PAYLOAD_TYPES.plan,
      payload: {
        issued_at: new Date(NOW).toISOString(),
        expires_at: new Date(NOW + 60_000).toISOString(),
        ...payload,
      },
      signers: [planner],
    });
  await expectCode(verifyPlan(await sign(source([])), options), "parse_error");
  const dup = source([
    { id: "a", tool: "markdown_to_html", args: {} },
    { id: "a", tool: "markdown_to_html", args: {} },
  ]);
  await expectCode(verifyPlan(await sign(dup), options), "parse_error");
  await expectCode(verifyPlan(await sign({ ...source(), extra: 1 }), options), "parse_error");
  await expectCode(
    verifyPlan(await sign({ ...source(), session_id: "../x" }), options),
    "bad_identifier",
  );
  const capsetTyped = await signStatement({
    payloadType: PAYLOAD_TYPES.capset,
    payload: source(),
    signers: [planner],
  });
  await expectCode(verifyPlan(capsetTyped, options), "wrong_payload_type");
});

Deno.test("argProblem() enforces enum, min, max and max_length", () => {
  assert.equal(argProblem("png", { enum: ["png"] }), undefined);
  assert.match(argProblem("gif", { enum: ["png"] })!, /one of png/);
  assert.match(argProblem(5, { enum: ["5"] })!, /one of/);
  assert.equal(argProblem(16, { min: 16, max: 32 }), undefined);
  assert.match(argProblem(15, { min: 16 })!, /at least 16/);
  assert.match(argProblem(33, { max: 32 })!, /at most 32/);
  assert.match(argProblem("7", { max: 32 })!, /a number/);
  assert.equal(argProblem("abc", { max_length: 3 }), undefined);
  assert.match(argProblem("abcd", { max_length: 3 })!, /length of at most 3/);
  assert.match(argProblem(1234, { max_length: 3 })!, /string or an array/);
});
