/**
 * The planner agent: compiles each intent into a signed execution plan bound to
 * the session and to the envelope that carries it (`plan_issued`), and forwards
 * the branch: an article to text_formatter (`markdown_to_html`), each staged
 * image to image_filter (`image_sanitize`).
 *
 * @module
 */
import {
  type AgentContext,
  type AgentDefinition,
  runAgent,
} from "../core/services/runtime/agent_runtime.ts";
import { SaoeError } from "../core/primitives/errors.ts";
import { systemClock } from "../core/primitives/time/clock.ts";
import type { PlanCall } from "../core/domain/toolgate/plan.ts";
import type { JsonObject } from "../core/primitives/json/strict_parse.ts";
import {
  blogArticleIntent,
  imageProcessIntent,
  readPayload,
} from "../core/services/deployment/payloads.ts";
import {
  imageSanitizeCalls,
  issuePlan,
  textFormatCalls,
} from "../core/services/deployment/plans.ts";

interface Branch {
  to: string;
  template: string;
  calls: PlanCall[];
  payload(plan: string): JsonObject;
}

async function forward(ctx: AgentContext, session: string, branch: Branch): Promise<void> {
  // the plan names the id of the envelope that will carry it: generated first
  const envelopeId = crypto.randomUUID();
  const plan = await issuePlan({
    signer: ctx.signer,
    session,
    envelopeId,
    calls: branch.calls,
    now: systemClock.now(),
  });
  await ctx.emit({
    type: "plan_issued",
    session_id: session,
    envelope_id: envelopeId,
    detail: { plan_id: plan.planId, tools: plan.tools },
  });
  await ctx.send({
    to: branch.to,
    template: branch.template,
    payload: branch.payload(plan.text),
    sessionId: session,
    envelopeId,
    humanReadable: `plan ${plan.planId} for ${branch.template}`,
  });
}

/** The planner agent. */
export const planner: AgentDefinition = {
  name: "planner",
  async handle(ctx, { envelope }) {
    const session = envelope.session_id;
    switch (envelope.template.id) {
      case "blog_article_intent": {
        const a = readPayload(blogArticleIntent, envelope.payload, envelope.template.id);
        await forward(ctx, session, {
          to: "text_formatter",
          template: "text_format_plan",
          calls: textFormatCalls(),
          payload: (plan) => ({
            title: a.title,
            markdown: a.markdown,
            image_count: a.image_count,
            plan,
          }),
        });
        return;
      }
      case "image_process_intent": {
        const i = readPayload(imageProcessIntent, envelope.payload, envelope.template.id);
        await forward(ctx, session, {
          to: "image_filter",
          template: "image_filter_plan",
          calls: imageSanitizeCalls(i.media_type),
          payload: (plan) => ({
            upload_file: i.upload_file,
            sha256: i.sha256,
            media_type: i.media_type,
            index: i.index,
            plan,
          }),
        });
        return;
      }
      default:
        throw new SaoeError(
          "edge_not_allowed",
          `Cannot plan template ${
            JSON.stringify(envelope.template.id)
          }: the planner handles blog_article_intent and image_process_intent`,
          { envelope_id: envelope.envelope_id, session_id: session },
        );
    }
  },
};

if (import.meta.main) await runAgent(planner);
