import assert from "node:assert/strict";
import { CausalOrder } from "../../core/services/supervisor/causal_order.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import { waitFor } from "../_support/wait.ts";

const AT = "2026-01-01T00:00:00.000Z";
const enc = (s: string) => new TextEncoder().encode(s);

function setup(holdMs = 50) {
  const out: string[] = [];
  const order = new CausalOrder({ emit: (b) => out.push(new TextDecoder().decode(b)), holdMs });
  const push = (
    type: AuditEvent["type"],
    id: string | undefined,
    label: string,
    agent = "planner",
  ) => order.push({ type, at: AT, agent, ...(id ? { envelope_id: id } : {}) }, enc(label));
  return { out, order, push };
}

Deno.test("CausalOrder holds a validated event until the forwarded of its envelope is written", () => {
  const { out, order, push } = setup();
  const id = crypto.randomUUID();
  push("validated", id, "validated");
  push("plan_issued", undefined, "after-validated");
  push("intake_accepted", undefined, "other-agent", "intake");
  assert.deepEqual(out, ["other-agent"], "another agent's events are not held");
  push("forwarded", id, "forwarded", "sanitization");
  assert.deepEqual(out, ["other-agent", "forwarded", "validated", "after-validated"]);
  order.close();
});

Deno.test("CausalOrder passes a receipt at once when its forwarded was already written", () => {
  const { out, order, push } = setup();
  const id = crypto.randomUUID();
  push("forwarded", id, "f", "sanitization");
  push("rejected", id, "r");
  assert.deepEqual(out, ["f", "r"]);
  order.close();
});

Deno.test("CausalOrder writes a held event after holdMs when no forwarded ever comes", async () => {
  const { out, order, push } = setup(30);
  const pushed = Date.now();
  push("rejected", crypto.randomUUID(), "planted");
  assert.deepEqual(out, []);
  await waitFor(() => out.length > 0, 5_000, "the held event to be written");
  assert.ok(Date.now() - pushed >= 30, "not before holdMs");
  assert.deepEqual(out, ["planted"]);
  order.close();
});

Deno.test("CausalOrder.close() writes everything still held", () => {
  const { out, order, push } = setup(10_000);
  push("validated", crypto.randomUUID(), "a");
  push("validated", crypto.randomUUID(), "b");
  order.close();
  assert.deepEqual(out.sort(), ["a", "b"]);
});

Deno.test("CausalOrder keeps one agent's events in the order it reported them", () => {
  const { out, order, push } = setup(10_000);
  const planted = crypto.randomUUID();
  const own = crypto.randomUUID();
  push("validated", planted, "validated-planted");
  push("forwarded", own, "forwarded-own");
  assert.deepEqual(out, [], "the forward waits behind the agent's earlier receipt");
  order.close();
  assert.deepEqual(out, ["validated-planted", "forwarded-own"]);
});
