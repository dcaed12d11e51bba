/**
 * The planner as a real process, spawned with exactly the supervisor's command
 * line: each intent becomes a planner-signed plan bound to the session and to the
 * id of the envelope that carries it.
 */
import assert from "node:assert/strict";
import { utf8 } from "../../core/primitives/crypto/bytes.ts";
import { verifyPlan } from "../../core/domain/toolgate/plan.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { createTestHome, inject, startAgent, waitForEnvelope } from "./_harness.ts";

const OPTS = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "planner signs plans bound to the session and the carrying envelope for both branches",
  OPTS,
  async () => {
    const th = await createTestHome();
    const planner = await startAgent(th, "planner");
    try {
      const session = crypto.randomUUID();
      const key = await th.signer("planner");
      const plannerKeys = {
        name: "planner",
        keys: [{ keyid: key.keyid, publicKey: key.publicKey }],
        threshold: 1,
      };
      await inject(th, {
        from: "sanitization",
        to: "planner",
        template: "blog_article_intent",
        payload: { title: "Hello", markdown: "# Hi\n\ntext", image_count: 1 },
        sessionId: session,
      });
      const sha = "ab".repeat(32);
      await inject(th, {
        from: "sanitization",
        to: "planner",
        template: "image_process_intent",
        payload: { upload_file: `${sha}.jpg`, sha256: sha, media_type: "image/jpeg", index: 0 },
        sessionId: session,
      });

      const text = await waitForEnvelope(th, "text_formatter", "planner");
      assert.equal(text.session_id, session);
      assert.equal(text.template.id, "text_format_plan");
      assert.equal(text.payload.title, "Hello");
      assert.equal(text.payload.markdown, "# Hi\n\ntext");
      assert.equal(text.payload.image_count, 1);
      const textPlan = await verifyPlan(utf8(String(text.payload.plan)), {
        planner: plannerKeys,
        clock: systemClock,
        skewMs: 0,
      });
      assert.equal(textPlan.issuer, "planner");
      assert.equal(textPlan.session_id, session);
      assert.equal(textPlan.envelope_id, text.envelope_id);
      assert.deepEqual(textPlan.calls, [{ id: "c1", tool: "markdown_to_html", args: {} }]);

      const image = await waitForEnvelope(th, "image_filter", "planner");
      assert.equal(image.session_id, session);
      assert.deepEqual(
        { ...image.payload, plan: undefined },
        {
          upload_file: `${sha}.jpg`,
          sha256: sha,
          media_type: "image/jpeg",
          index: 0,
          plan: undefined,
        },
      );
      const imagePlan = await verifyPlan(utf8(String(image.payload.plan)), {
        planner: plannerKeys,
        clock: systemClock,
        skewMs: 0,
      });
      assert.equal(imagePlan.envelope_id, image.envelope_id);
      assert.equal(imagePlan.session_id, session);
      assert.deepEqual(imagePlan.calls, [
        { id: "c1", tool: "image_sanitize", args: { format: "jpeg", resize_max: 1600 } },
      ]);

      const issued = await planner.waitForEvent((e) =>
        e.type === "plan_issued" && e.envelope_id === text.envelope_id
      );
      assert.equal(issued.session_id, session);
      assert.deepEqual(issued.detail, { plan_id: textPlan.plan_id, tools: ["markdown_to_html"] });
      const issuedImage = await planner.waitForEvent((e) =>
        e.type === "plan_issued" && e.envelope_id === image.envelope_id
      );
      assert.deepEqual(issuedImage.detail, {
        plan_id: imagePlan.plan_id,
        tools: ["image_sanitize"],
      });
      // the plan is issued before the envelope carrying it is forwarded
      const order = planner.events.map((e) => `${e.type}:${e.envelope_id}`);
      assert.ok(
        order.indexOf(`plan_issued:${text.envelope_id}`) <
          order.indexOf(`forwarded:${text.envelope_id}`),
      );
      assert.deepEqual(planner.problems, []);
    } finally {
      await planner.stop();
      await th.dispose();
    }
  },
);

Deno.test("planner plans a PNG upload as a PNG", OPTS, async () => {
  const th = await createTestHome();
  const planner = await startAgent(th, "planner");
  try {
    const sha = "cd".repeat(32);
    await inject(th, {
      from: "sanitization",
      to: "planner",
      template: "image_process_intent",
      payload: { upload_file: `${sha}.png`, sha256: sha, media_type: "image/png", index: 1 },
    });
    const image = await waitForEnvelope(th, "image_filter", "planner");
    const plan = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.fromBase64(JSON.parse(String(image.payload.plan)).payload),
      ),
    );
    assert.deepEqual(plan.calls[0].args, { format: "png", resize_max: 1600 });
    assert.equal(image.payload.index, 1);
  } finally {
    await planner.stop();
    await th.dispose();
  }
});
