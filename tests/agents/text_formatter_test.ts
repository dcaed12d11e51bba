/**
 * text_formatter as a real process: Markdown rendered by the `markdown_to_html`
 * tool under ToolGate with the planner's plan, a forged plan refused with
 * `plan_rejected` and dead-lettered, and the agent still serving the next
 * valid envelope.
 */
import assert from "node:assert/strict";
import {
  createTestHome,
  deadLetters,
  explained,
  inject,
  type RunningAgent,
  startAgent,
  type TestHome,
  testPlan,
  waitForEnvelope,
} from "./_harness.ts";

const OPTS = { sanitizeOps: false, sanitizeResources: false };
const FORMAT = [{ id: "c1", tool: "markdown_to_html", args: {} }];

const MARKDOWN = [
  "# Release notes",
  "",
  "First paragraph with *emphasis*.",
  "",
  "Second paragraph with a [link](https://example.org).",
  "",
  "- one",
  "- two",
  "",
  "```ts",
  "const x = 1 < 2;",
  "```",
  "",
  "| a | b |",
  "|---|---|",
  "| 1 | 2 |",
  "",
].join("\n");

async function sendPlanned(
  th: TestHome,
  options: { markdown: string; signAs?: string; session?: string },
) {
  const session = options.session ?? crypto.randomUUID();
  const envelopeId = crypto.randomUUID();
  const plan = await testPlan(th, {
    session,
    envelopeId,
    calls: FORMAT,
    ...(options.signAs === undefined ? {} : { signAs: options.signAs }),
  });
  return await inject(th, {
    from: "planner",
    to: "text_formatter",
    template: "text_format_plan",
    payload: { title: "Notes", markdown: options.markdown, image_count: 0, plan },
    sessionId: session,
    envelopeId,
  });
}

async function withFormatter(fn: (th: TestHome, agent: RunningAgent) => Promise<void>) {
  const th = await createTestHome();
  const agent = await startAgent(th, "text_formatter");
  try {
    await explained([agent], () => fn(th, agent));
  } finally {
    await agent.stop();
    await th.dispose();
  }
}

Deno.test(
  "text_formatter keeps paragraphs, a heading, a list, a fenced block and a table",
  OPTS,
  async () => {
    await withFormatter(async (th, agent) => {
      const sent = await sendPlanned(th, { markdown: MARKDOWN });
      const out = await waitForEnvelope(th, "deployment", "text_formatter");
      assert.equal(out.session_id, sent.session_id);
      assert.equal(out.template.id, "formatted_article");
      assert.equal(out.payload.title, "Notes");
      assert.equal(out.payload.image_count, 0);
      const html = String(out.payload.html);
      assert.match(html, /<h1>Release notes<\/h1>/);
      assert.match(html, /<p>First paragraph with <em>emphasis<\/em>\.<\/p>/);
      assert.match(
        html,
        /<a href="https:\/\/example\.org" rel="noopener noreferrer">link<\/a>/,
      );
      assert.match(html, /<ul>\s*<li>one<\/li>\s*<li>two<\/li>\s*<\/ul>/);
      assert.match(html, /<pre><code>const x = 1 &lt; 2;\s*<\/code><\/pre>/);
      assert.match(html, /<table>\s*<thead>\s*<tr>\s*<th>a<\/th>\s*<th>b<\/th>/);
      assert.match(html, /<tbody>\s*<tr>\s*<td>1<\/td>\s*<td>2<\/td>/);
      const executed = await agent.waitForEvent((e) => e.type === "tool_executed");
      assert.equal(executed.envelope_id, sent.envelope_id);
      assert.equal((executed.detail as { tool: string }).tool, "markdown_to_html");
    });
  },
);

Deno.test(
  "text_formatter refuses a plan signed by another agent's key, dead-letters it and serves the next envelope",
  OPTS,
  async () => {
    await withFormatter(async (th, agent) => {
      const forged = await sendPlanned(th, { markdown: "forged", signAs: "sanitization" });
      const rejected = await agent.waitForEvent((e) =>
        e.type === "plan_rejected" && e.envelope_id === forged.envelope_id
      );
      assert.equal(rejected.reason, "bad_signature");
      assert.equal(rejected.session_id, forged.session_id);
      await agent.waitForEvent((e) =>
        e.type === "handler_error" && e.envelope_id === forged.envelope_id
      );
      const dead = await deadLetters(th, "text_formatter");
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.reason?.ids.envelope_id, forged.envelope_id);
      assert.equal(dead[0]!.reason?.code, "handler_error");
      assert.notEqual(dead[0]!.entryPath, null);

      const good = await sendPlanned(th, { markdown: "valid *text*" });
      const out = await waitForEnvelope(th, "deployment", "text_formatter");
      assert.equal(out.session_id, good.session_id);
      assert.equal(out.payload.html, "<p>valid <em>text</em></p>\n");
      // nothing was sent for the forged plan
      assert.ok(
        !agent.events.some((e) =>
          e.type === "tool_executed" && e.envelope_id === forged.envelope_id
        ),
      );
    });
  },
);

Deno.test("text_formatter refuses a valid plan bound to another envelope", OPTS, async () => {
  await withFormatter(async (th, agent) => {
    const session = crypto.randomUUID();
    const plan = await testPlan(th, { session, envelopeId: crypto.randomUUID(), calls: FORMAT });
    const sent = await inject(th, {
      from: "planner",
      to: "text_formatter",
      template: "text_format_plan",
      payload: { title: "Notes", markdown: "x", image_count: 0, plan },
      sessionId: session,
    });
    const rejected = await agent.waitForEvent((e) =>
      e.type === "plan_rejected" && e.envelope_id === sent.envelope_id
    );
    assert.equal(rejected.reason, "plan_binding");
    await agent.waitForEvent((e) =>
      e.type === "handler_error" && e.envelope_id === sent.envelope_id
    );
  });
});
