/**
 * The viewer's live parts against a running pipeline: server-sent events of
 * records the supervisor appends while a client listens, and ledger
 * verification of a ledger tampered with under the running viewer.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ledgerPath } from "../../core/home/layout.ts";
import type { EventFields } from "../../core/ledger/events.ts";
import { articlePayload, injectEnvelope, waitFor } from "../supervisor/_harness.ts";
import { get, processTest, seedLedger, startViewerPipeline } from "./_fixtures.ts";

/** Reads an event stream into `text` until the caller cancels it. */
function follow(
  body: ReadableStream<Uint8Array>,
): { text: () => string; stop: () => Promise<void> } {
  let text = "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // cancelled
    }
  })();
  return {
    text: () => text,
    async stop() {
      await reader.cancel().catch(() => {});
      await done;
    },
  };
}

interface SseMessage {
  event: string;
  id?: string;
  data: string;
}

function messages(text: string): SseMessage[] {
  return text.split("\n\n").filter((block) => block.includes("data: ")).map((block) => {
    const field = (name: string) =>
      block.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
    return {
      event: field("event") ?? "message",
      data: field("data")!,
      ...(field("id") ? { id: field("id")! } : {}),
    };
  });
}

Deno.test({
  name: "the event stream delivers a record the supervisor appends while a client listens",
  ...processTest,
  async fn() {
    await using v = await startViewerPipeline({ agents: ["sanitization"] });
    const all = await fetch(`${v.base}/events`);
    assert.equal(all.status, 200);
    const stream = follow(all.body!);
    const unrelated = await fetch(`${v.base}/events?session=${crypto.randomUUID()}`);
    const quiet = follow(unrelated.body!);
    try {
      const { session_id, envelope_id } = await injectEnvelope(v.t, {
        sender: "intake",
        receiver: "sanitization",
        template: "blog_article_intent",
        payload: articlePayload("<b>live</b>"),
      });
      const record = await waitFor(
        () =>
          messages(stream.text()).find((m) =>
            m.event === "record" && JSON.parse(m.data).envelope_id === envelope_id
          ),
        { what: "the validated record on the event stream" },
      );
      const event = JSON.parse(record.data);
      assert.equal(event.type, "validated");
      assert.equal(event.agent, "sanitization");
      assert.equal(event.session_id, session_id);
      assert.equal(record.id, String(event.seq));
      assert.doesNotMatch(record.data, /[<>]/, "the JSON is inert");
      const session = await waitFor(
        () =>
          messages(stream.text()).find((m) =>
            m.event === "session" && JSON.parse(m.data).session === session_id
          ),
        { what: "the session update" },
      );
      assert.equal(JSON.parse(session.data).state, "in progress");
      // a stream filtered to another session receives none of it
      assert.ok(!quiet.text().includes(session_id));
      // a reconnecting client catches up from its last id
      const resumed = await fetch(`${v.base}/events`, {
        headers: { "last-event-id": String(event.seq - 1) },
      });
      const caught = follow(resumed.body!);
      try {
        await waitFor(
          () => messages(caught.text()).some((m) => m.id === String(event.seq)),
          { what: "the caught-up record" },
        );
      } finally {
        await caught.stop();
      }
      // an open stream does not hold the viewer up at shutdown
      await v.sup.supervisor.stop();
      const viewer = v.sup.supervisor.agents().find((a) => a.name === "viewer");
      assert.equal(viewer?.last_exit?.code, 0, JSON.stringify(viewer));
    } finally {
      await stream.stop();
      await quiet.stop();
    }
  },
});

Deno.test({
  name:
    "the ledger page shows a ledger tampered with under the running viewer as broken at the first bad record",
  ...processTest,
  async fn() {
    const seeded: EventFields[] = Array.from({ length: 20 }, (_, i) => ({
      type: "agent_started",
      agent: "supervisor",
      detail: { n: i },
    }));
    await using v = await startViewerPipeline({ prepare: (t) => seedLedger(t, seeded) });
    const verify = async () => {
      const page = await get(v.base, "/ledger");
      const token = /name="csrf" value="([0-9a-f]{64})"/.exec(page.text)![1]!;
      const res = await get(v.base, "/ledger/verify", {
        method: "POST",
        body: `csrf=${token}`,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          cookie: `saoe_viewer_csrf=${token}`,
          origin: v.base,
        },
      });
      assert.equal(res.status, 303);
      return (await get(v.base, "/ledger")).text;
    };
    assert.match(await verify(), /id="verify-outcome" class="ok"/);

    const db = new DatabaseSync(ledgerPath(v.t.home));
    try {
      db.exec("PRAGMA busy_timeout=5000");
      db.prepare("UPDATE records SET bytes = ? WHERE seq = 7").run(
        new TextEncoder().encode(
          '{"type":"agent_started","at":"2026-01-01T00:00:00.000Z","agent":"supervisor","detail":{"n":"<b>edited</b>"}}',
        ),
      );
    } finally {
      db.close();
    }
    const broken = await verify();
    assert.match(broken, /<p id="verify-outcome" class="broken" data-ok="false">broken: /);
    assert.match(
      broken,
      /<p id="verify-first-bad" data-seq="7" data-reason="hash_mismatch">First bad record: seq 7/,
    );
    // the edited record is still shown, as text
    const audit = await get(v.base, "/audit?before=8&limit=1");
    assert.match(audit.text, /&lt;b&gt;edited&lt;\/b&gt;/);
  },
});
