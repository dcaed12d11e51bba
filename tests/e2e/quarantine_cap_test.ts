/**
 * A full dead-letter area stops intake for that agent only: past
 * `limits.max_quarantine` the agent leaves new entries in its inbox, reports
 * `quarantine_limit_exceeded` (at most once a minute), and resumes once the
 * operator drops the dead letters.
 */
import assert from "node:assert/strict";
import { inboxFromDir } from "../../core/domain/home/layout.ts";
import { writeHomeConfig } from "../../core/domain/home/config.ts";
import { dropDead, listDead } from "../../core/domain/queue/dead_letter.ts";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import type { JsonObject } from "../../core/primitives/json/strict_parse.ts";
import {
  articlePayload,
  ledgerEvents,
  makeTestHome,
  startTestSupervisor,
  waitFor,
} from "../supervisor/_harness.ts";
import { plant, signedEnvelope } from "./_e2e.ts";

Deno.test({
  name:
    "past max_quarantine an agent stops taking entries, reports it once, and resumes after a drop",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome({
      capsetEdits: {
        sanitization: (s: JsonObject) => {
          (s.limits as JsonObject).max_quarantine = 2;
        },
      },
    });
    // a short reconciliation interval: entries left waiting are picked up by the scan
    await writeHomeConfig(t.home.config, { ...t.config, reconcile_ms: 1000 });
    await using _running = await startTestSupervisor(t);
    const inbox = inboxFromDir(t.home, "sanitization", "intake");
    const garbage = new TextEncoder().encode("not json");
    await plant(inbox, `${crypto.randomUUID()}.satl`, garbage);
    await plant(inbox, `${crypto.randomUUID()}.satl`, garbage);
    const paths = queuePaths(t.home, "sanitization");
    await waitFor(async () => (await listDead(paths.dead)).length === 2, {
      what: "two dead letters",
    });

    const valid = await signedEnvelope(t, {
      sender: "intake",
      receiver: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload("waits for the operator"),
    });
    await plant(inbox, `${valid.envelope_id}.satl`, valid.bytes);
    await plant(inbox, `${crypto.randomUUID()}.satl`, garbage);
    await waitFor(
      async () => (await ledgerEvents(t.home)).some((e) => e.type === "quarantine_limit_exceeded"),
      {
        what: "quarantine_limit_exceeded",
      },
    );
    // two more reconciliation scans: the valid entry still waits, the event is not repeated
    await new Promise((r) => setTimeout(r, 2500));
    let events = await ledgerEvents(t.home);
    assert.equal(events.filter((e) => e.type === "quarantine_limit_exceeded").length, 1);
    assert.ok(!events.some((e) => e.type === "validated" && e.envelope_id === valid.envelope_id));
    assert.equal((await listDead(paths.dead)).length, 2, "nothing more dead-lettered");
    await Deno.lstat(`${inbox}/${valid.envelope_id}.satl`);

    for (const entry of await listDead(paths.dead)) {
      await dropDead({ deadDir: paths.dead, key: entry.key });
    }
    events = await waitFor(async () => {
      const all = await ledgerEvents(t.home);
      return all.some((e) => e.type === "forwarded" && e.session_id === valid.session_id) && all;
    }, { what: "the waiting envelope processed after the drop" });
    assert.ok(events.some((e) => e.type === "validated" && e.envelope_id === valid.envelope_id));
  },
});
