import assert from "node:assert/strict";
import { PublishedOnce } from "../../core/services/supervisor/published_once.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";

const at = "2026-01-01T00:00:00.000Z";

function published(session: string, agent = "deployment"): AuditEvent {
  return { type: "published", at, agent, session_id: session };
}

Deno.test("PublishedOnce admits one published per session and every other event", () => {
  const once = new PublishedOnce(2);
  const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
  assert.equal(once.admit(published(a)), true);
  assert.equal(once.admit(published(a)), false);
  assert.equal(once.admit({ type: "validated", at, agent: "deployment", session_id: a }), true);
  assert.equal(once.admit(published(b)), true);
  assert.equal(once.admit(published(c)), true);
  // bounded: the oldest session is forgotten, the recent ones are not
  assert.equal(once.admit(published(c)), false);
  assert.equal(once.admit(published(b)), false);
  assert.equal(once.admit(published(a)), true);
});

Deno.test("PublishedOnce never drops deployment's report because another agent reported the session first", () => {
  const once = new PublishedOnce();
  const session = crypto.randomUUID();
  // a compromised planner claims the session is published before deployment does
  assert.equal(once.admit(published(session, "planner")), true);
  assert.equal(once.admit(published(session, "deployment")), true);
  assert.equal(once.admit(published(session, "deployment")), false);
});
