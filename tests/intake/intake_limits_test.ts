/**
 * Intake's admission limits on a real process: the per-credential sliding
 * quota (429 + Retry-After) and the global queue depth (503 + Retry-After).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type IntakeProcess, listNames, listTree, startIntake } from "./_fixtures.ts";

async function submit(p: IntakeProcess, credential: string, title: string) {
  const res = await fetch(`${p.url}/api/submit`, {
    method: "POST",
    headers: { authorization: `Bearer ${credential}`, "content-type": "application/json" },
    body: JSON.stringify({ title, markdown: "body" }),
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
}

async function snapshot(p: IntakeProcess): Promise<string[]> {
  return [...await listTree(p.home.uploads), ...await listNames(p.queue)];
}

Deno.test({
  name: "intake enforces the person quota per sliding minute and the global queue depth",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const p = await startIntake({ maxQueueDepth: 12 });
  try {
    await t.step(
      "the eleventh request of a person credential in a minute gets 429 with Retry-After",
      async () => {
        const start = Date.now();
        for (let i = 0; i < 10; i++) {
          const answer = await submit(p, p.person, `post ${i}`);
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
        }
        const before = await snapshot(p);
        const answer = await submit(p, p.person, "one too many");
        assert.equal(answer.status, 429);
        assert.deepEqual(answer.body.ok, false);
        assert.equal(answer.body.reason, "quota_exceeded");
        const retry = Number(answer.retryAfter);
        const elapsed = (Date.now() - start) / 1000;
        // seconds until the first of the ten leaves the 60 s window
        assert.ok(retry >= Math.floor(60 - elapsed) && retry <= 60, `Retry-After ${retry}`);
        assert.deepEqual(await snapshot(p), before);
        const event = await p.waitForEvent((e) =>
          e.type === "intake_refused" && e.reason === "quota_exceeded"
        );
        assert.deepEqual(
          { status: event.detail?.status, credential: event.detail?.credential },
          { status: 429, credential: "operator" },
        );
      },
    );

    await t.step("another credential keeps its own quota", async () => {
      const answer = await submit(p, p.automation, "automation 1");
      assert.equal(answer.status, 200);
    });

    await t.step("a full queue answers 503 with Retry-After and writes nothing", async () => {
      assert.equal((await submit(p, p.automation, "automation 2")).status, 200);
      assert.equal((await listNames(p.queue)).length, 12);
      const before = await snapshot(p);
      const answer = await submit(p, p.automation, "queue full");
      assert.equal(answer.status, 503);
      assert.equal(answer.body.reason, "queue_full");
      assert.ok(Number(answer.retryAfter) >= 1);
      assert.deepEqual(await snapshot(p), before);
      const event = await p.waitForEvent((e) =>
        e.type === "intake_refused" && e.detail?.status === 503
      );
      assert.equal(event.detail?.credential, "ci");
    });

    await t.step("a drained queue admits submissions again", async () => {
      const [first] = await listNames(p.queue);
      await Deno.remove(join(p.queue, first!));
      assert.equal((await submit(p, p.automation, "after drain")).status, 200);
    });
  } finally {
    await p.stop();
  }
});
