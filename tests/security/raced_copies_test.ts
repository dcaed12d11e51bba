/**
 * Attack 2 against the real running pieces: the same signed envelope renamed into
 * a live agent's inbox under two (or three) names at the same moment, with the
 * supervisor and its agent subprocesses running. The replay claim (validation
 * step 14) must let exactly one copy through; the ledger is the judge.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { inboxFromDir } from "../../core/domain/home/layout.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import { listDead } from "../../core/domain/queue/dead_letter.ts";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import {
  articlePayload,
  ledgerEvents,
  makeTestHome,
  startTestSupervisor,
  type TestHome,
  verifyTestLedger,
  waitFor,
  waitUntilUp,
} from "../supervisor/_harness.ts";
import { signedEnvelope } from "../e2e/_e2e.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

/** One signed intake → sanitization envelope, as bytes. */
interface SignedCopy {
  envelopeId: string;
  sessionId: string;
  bytes: Uint8Array;
}

/** Signs a `blog_article_intent` from intake to sanitization with intake's real key. */
async function signedArticle(t: TestHome, title: string): Promise<SignedCopy> {
  const signed = await signedEnvelope(t, {
    sender: "intake",
    receiver: "sanitization",
    template: "blog_article_intent",
    payload: articlePayload(title),
    human_readable: "raced by a test",
  });
  return { envelopeId: signed.envelope_id, sessionId: signed.session_id, bytes: signed.bytes };
}

/**
 * Writes `copies` copies of `envelope` as hidden temp files in intake's folder of
 * sanitization's inbox (ignored by the watcher, as the harness does), then renames
 * them all to distinct visible names at once. The first name is the envelope id.
 */
async function raceCopies(t: TestHome, envelope: SignedCopy, copies: number): Promise<void> {
  const folder = inboxFromDir(t.home, "sanitization", "intake");
  const moves: { temp: string; target: string }[] = [];
  for (let i = 0; i < copies; i++) {
    const temp = join(folder, `.tmp-${crypto.randomUUID()}`);
    await Deno.writeFile(temp, envelope.bytes);
    const name = i === 0 ? envelope.envelopeId : crypto.randomUUID();
    moves.push({ temp, target: join(folder, `${name}.satl`) });
  }
  await Promise.all(moves.map((m) => Deno.rename(m.temp, m.target)));
}

/** Events of `agent` with `type`, matched by envelope id or session id. */
function matching(
  events: AuditEvent[],
  match: { agent: string; type: string; envelopeId?: string; sessionId?: string },
): AuditEvent[] {
  return events.filter((e) =>
    e.agent === match.agent && e.type === match.type &&
    (match.envelopeId === undefined || e.envelope_id === match.envelopeId) &&
    (match.sessionId === undefined || e.session_id === match.sessionId)
  );
}

/** Races `rounds` envelopes × `copies` copies and asserts exactly one passed each time. */
async function raceAndCount(rounds: number, copies: number): Promise<void> {
  await using t = await makeTestHome();
  await using running = await startTestSupervisor(t);
  await waitUntilUp(running.supervisor, "sanitization");
  await waitUntilUp(running.supervisor, "planner");

  const envelopes: SignedCopy[] = [];
  for (let i = 0; i < rounds; i++) envelopes.push(await signedArticle(t, `raced ${i}`));
  for (const envelope of envelopes) await raceCopies(t, envelope, copies);

  // every copy judged by sanitization, and the planner reached, for every envelope
  await waitFor(async () => {
    const events = await ledgerEvents(t.home);
    return envelopes.every((env) => {
      const judged = events.filter((e) =>
        e.agent === "sanitization" && e.envelope_id === env.envelopeId &&
        (e.type === "validated" || e.type === "rejected")
      ).length;
      return judged >= copies &&
        matching(events, { agent: "planner", type: "validated", sessionId: env.sessionId })
            .length >= 1;
    });
  }, { what: `all ${rounds * copies} raced copies to be judged`, timeoutMs: 15_000 });
  // a late second pass-through would show up before a later envelope's: sanitization handles
  // its entries one at a time and forwards them in order, and the planner takes its own in order
  const later = await signedArticle(t, "after the race");
  await raceCopies(t, later, 1);
  const events = await waitFor(async () => {
    const all = await ledgerEvents(t.home);
    return matching(all, { agent: "planner", type: "validated", sessionId: later.sessionId })
          .length >= 1 && all;
  }, { what: "the envelope sent after the race to reach the planner", timeoutMs: 15_000 });

  for (const env of envelopes) {
    const at = `envelope ${env.envelopeId}`;
    const validated = matching(events, {
      agent: "sanitization",
      type: "validated",
      envelopeId: env.envelopeId,
    });
    assert.equal(validated.length, 1, `${at}: sanitization validated it once`);
    const rejected = matching(events, {
      agent: "sanitization",
      type: "rejected",
      envelopeId: env.envelopeId,
    });
    assert.equal(rejected.length, copies - 1, `${at}: every other copy is refused`);
    assert.deepEqual(rejected.map((e) => e.reason), Array(copies - 1).fill("replay"));
    assert.ok(rejected.every((e) => e.session_id === env.sessionId));
    const forwarded = matching(events, {
      agent: "sanitization",
      type: "forwarded",
      sessionId: env.sessionId,
    });
    assert.equal(forwarded.length, 1, `${at}: sanitization forwarded it once`);
    const atPlanner = matching(events, {
      agent: "planner",
      type: "validated",
      sessionId: env.sessionId,
    });
    assert.equal(atPlanner.length, 1, `${at}: one envelope arrived at the planner`);
    assert.equal(atPlanner[0]!.envelope_id, forwarded[0]!.envelope_id);
  }
  // nothing else of these sessions was refused or failed anywhere in the pipeline
  const sessions = new Set(envelopes.map((e) => e.sessionId));
  const trouble = events.filter((e) =>
    e.session_id !== undefined && sessions.has(e.session_id) &&
    (e.type === "handler_error" || (e.type === "rejected" && e.agent !== "sanitization"))
  );
  assert.deepEqual(trouble, []);
  // on disk: the inbox is empty and each losing copy is dead-lettered as a replay
  const left: string[] = [];
  for await (const item of Deno.readDir(inboxFromDir(t.home, "sanitization", "intake"))) {
    left.push(item.name);
  }
  assert.deepEqual(left, []);
  const dead = await listDead(queuePaths(t.home, "sanitization").dead);
  assert.equal(dead.length, rounds * (copies - 1));
  assert.ok(dead.every((d) => d.reason?.code === "replay" && d.entryPath !== null));

  await running.supervisor.stop();
  const verification = await verifyTestLedger(t);
  assert.ok(verification.ok, verification.message);
}

Deno.test({
  name:
    "a live pipeline validates one of two copies of an envelope raced into sanitization's inbox and refuses the other as replay (10 envelopes)",
  ...processTest,
  fn: () => raceAndCount(10, 2),
});

Deno.test({
  name:
    "a live pipeline validates one of three copies of an envelope raced into sanitization's inbox and refuses the others as replay (3 envelopes)",
  ...processTest,
  fn: () => raceAndCount(3, 3),
});
