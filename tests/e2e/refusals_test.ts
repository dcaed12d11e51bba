/**
 * Refusals inside a running pipeline: hostile envelopes dropped into real
 * inboxes are each refused with their reason code, land in the agent's
 * dead-letter area with a reason record, are audited as `rejected`, and the
 * agent goes on to process the next valid envelope.
 */
import assert from "node:assert/strict";
import { inboxFromDir } from "../../core/domain/home/layout.ts";
import { listDead } from "../../core/domain/queue/dead_letter.ts";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import {
  articlePayload,
  ledgerEvents,
  makeTestHome,
  startTestSupervisor,
  waitFor,
} from "../supervisor/_harness.ts";
import { plant, signedEnvelope } from "./_e2e.ts";

function tamper(bytes: Uint8Array): Uint8Array {
  const doc = JSON.parse(new TextDecoder().decode(bytes));
  const payload = new TextDecoder().decode(Uint8Array.fromBase64(doc.payload));
  doc.payload = new TextEncoder().encode(payload.replace("crafted by a test", "crafted by a tesT"))
    .toBase64();
  return new TextEncoder().encode(JSON.stringify(doc));
}

Deno.test({
  name:
    "hostile envelopes in live inboxes are refused with their codes and dead-lettered, and work goes on",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    await using _running = await startTestSupervisor(t);
    const toSanitization = inboxFromDir(t.home, "sanitization", "intake");
    const article = (title: string) => ({
      sender: "intake",
      receiver: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload(title),
    });
    const until = (what: string, probe: (events: AuditEvent[]) => boolean) =>
      waitFor(async () => {
        const events = await ledgerEvents(t.home);
        return probe(events) && events;
      }, { what });

    // 1. a valid envelope, processed; then the very same bytes again: a replay
    const valid = await signedEnvelope(t, article("first"));
    await plant(toSanitization, `${valid.envelope_id}.satl`, valid.bytes);
    await until(
      "the first envelope forwarded",
      (es) =>
        es.some((e) =>
          e.type === "forwarded" && e.agent === "sanitization" && e.session_id === valid.session_id
        ),
    );
    await plant(toSanitization, `${valid.envelope_id}.satl`, valid.bytes);

    // 2. one byte of a signed payload changed
    const tampered = await signedEnvelope(t, article("tampered"));
    await plant(toSanitization, `${tampered.envelope_id}.satl`, tamper(tampered.bytes));

    // 3. a duplicate key in the DSSE wrapper
    await plant(
      toSanitization,
      `${crypto.randomUUID()}.satl`,
      new TextEncoder().encode('{"payloadType":"a","payloadType":"b"}'),
    );

    // 4. hop skipping: intake → deployment, correctly signed, planted in a folder deployment watches
    const skip = await signedEnvelope(t, { ...article("skip"), receiver: "deployment" });
    await plant(
      inboxFromDir(t.home, "deployment", "text_formatter"),
      `${skip.envelope_id}.satl`,
      skip.bytes,
    );

    // 5. then a valid one: the agent must still process it
    const last = await signedEnvelope(t, article("after the attacks"));
    await plant(toSanitization, `${last.envelope_id}.satl`, last.bytes);

    const events = await until("every refusal and the last envelope", (es) => {
      const reasons = es.filter((e) => e.type === "rejected").map((e) => e.reason);
      return ["replay", "bad_signature", "duplicate_key", "edge_not_allowed"].every((r) =>
        reasons.includes(r as never)
      ) && es.some((e) => e.type === "forwarded" && e.session_id === last.session_id);
    });
    const rejected = events.filter((e) => e.type === "rejected");
    const find = (reason: string) => rejected.find((e) => e.reason === reason)!;
    assert.equal(find("replay").envelope_id, valid.envelope_id);
    assert.equal(find("replay").agent, "sanitization");
    assert.equal(find("bad_signature").agent, "sanitization");
    assert.equal(find("edge_not_allowed").agent, "deployment");
    assert.equal(find("edge_not_allowed").envelope_id, skip.envelope_id);
    // only the first copy was validated: the replay never reached the handler twice
    const validated = events.filter((e) =>
      e.type === "validated" && e.envelope_id === valid.envelope_id
    );
    assert.equal(validated.length, 1);

    const dead = await listDead(queuePaths(t.home, "sanitization").dead);
    const codes = dead.map((d) => d.reason?.code).sort();
    assert.deepEqual(codes, ["bad_signature", "duplicate_key", "replay"]);
    const deadDeployment = await listDead(queuePaths(t.home, "deployment").dead);
    assert.deepEqual(deadDeployment.map((d) => d.reason?.code), ["edge_not_allowed"]);
  },
});
