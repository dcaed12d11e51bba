/**
 * The text_formatter agent: renders the article's Markdown to sanitised HTML
 * with the `markdown_to_html` tool, run by ToolGate only under the planner's
 * signed plan bound to this envelope, and sends the result to deployment. A
 * refused plan is audited as `plan_rejected` by ToolGate and the envelope is
 * dead-lettered.
 *
 * @module
 */
import { type AgentDefinition, runAgent } from "../core/services/runtime/agent_runtime.ts";
import { SaoeError } from "../core/primitives/errors.ts";
import { utf8 } from "../core/primitives/crypto/bytes.ts";
import {
  MAX_ARTICLE_HTML,
  readPayload,
  textFormatPlan,
} from "../core/services/deployment/payloads.ts";

/** The text_formatter agent. */
export const textFormatter: AgentDefinition = {
  name: "text_formatter",
  async handle(ctx, { envelope }) {
    const ids = { envelope_id: envelope.envelope_id, session_id: envelope.session_id };
    const article = readPayload(textFormatPlan, envelope.payload, envelope.template.id);
    if (ctx.toolgate === undefined) {
      throw new SaoeError(
        "tool_not_allowed",
        "Cannot format text: this agent has no ToolGate",
        ids,
      );
    }
    const result = await ctx.toolgate.execute({
      planBytes: utf8(article.plan),
      envelopeId: envelope.envelope_id,
      sessionId: envelope.session_id,
      inputs: new Map([["c1", utf8(article.markdown)]]),
    });
    const output = result.outputs.get("c1");
    if (output === undefined || !output.media_type.startsWith("text/html")) {
      throw new SaoeError(
        "handler_error",
        `Cannot format text: plan ${result.plan_id} produced no HTML for call c1`,
        ids,
      );
    }
    const html = new TextDecoder("utf-8", { fatal: true }).decode(output.bytes);
    if (html.length > MAX_ARTICLE_HTML) {
      throw new SaoeError(
        "payload_too_large",
        `Cannot send the formatted article: ${html.length} characters of HTML exceeds ${MAX_ARTICLE_HTML}`,
        ids,
      );
    }
    await ctx.send({
      to: "deployment",
      template: "formatted_article",
      payload: { title: article.title, html, image_count: article.image_count },
      sessionId: envelope.session_id,
      humanReadable: `formatted article (${article.image_count} image(s) to follow)`,
    });
  },
};

if (import.meta.main) await runAgent(textFormatter);
