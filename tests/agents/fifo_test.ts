/**
 * A FIFO planted in an inbox (by someone who can write the home: an agent's
 * Deno sandbox has no way to make one) stalls Deno's file watcher: its thread
 * blocks opening the FIFO, and no later entry is seen until a reconciliation
 * scan. The scan refuses the FIFO (`unsafe_path`) and releases the blocked
 * watcher as it removes it, so entries arrive through the watcher again, not
 * one scan interval late.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { inboxFromDir } from "../../core/domain/home/layout.ts";
import { createTestHome, inject, startAgent } from "./_harness.ts";

const RECONCILE_MS = 3_000;

Deno.test({
  name:
    "a FIFO in planner's inbox is refused at the next scan, and the watcher sees later entries again at once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const th = await createTestHome();
    th.config.reconcile_ms = RECONCILE_MS;
    const planner = await startAgent(th, "planner");
    try {
      const fifo = join(
        inboxFromDir(th.home, "planner", "sanitization"),
        `${crypto.randomUUID()}.satl`,
      );
      const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
      assert.equal(made.code, 0);
      const refused = await planner.waitForEvent(
        (e) => e.type === "rejected" && e.reason === "unsafe_path",
        RECONCILE_MS * 3,
      );
      const scannedAt = performance.now();
      assert.match(String(refused.detail?.message), /found a other/);
      await assert.rejects(Deno.lstat(fifo), Deno.errors.NotFound);

      // right after that scan: only the watcher can deliver this before the next one
      const envelope = await inject(th, {
        from: "sanitization",
        to: "planner",
        template: "blog_article_intent",
        payload: { title: "After the FIFO", markdown: "text", image_count: 0 },
      });
      await planner.waitForEvent(
        (e) => e.type === "validated" && e.envelope_id === envelope.envelope_id,
        RECONCILE_MS * 3,
      );
      const seenAfter = performance.now() - scannedAt;
      assert.ok(
        seenAfter < RECONCILE_MS * 0.8,
        `validated ${
          Math.round(seenAfter)
        } ms after the scan that removed the FIFO: the watcher is still stalled`,
      );
    } finally {
      await planner.stop();
      await th.dispose();
    }
  },
});
