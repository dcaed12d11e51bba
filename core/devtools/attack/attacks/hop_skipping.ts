/**
 * Attack 5: hop skipping. Intake's correctly signed `blog_article_intent` sent
 * straight to deployment (skipping sanitization, planner and the formatters) and
 * straight to planner (skipping sanitization), each planted in a folder the
 * receiver watches. The edge check (validation step 7: both capability sets
 * must name the edge for the template) must refuse both with
 * `edge_not_allowed`.
 *
 * @module
 */
import type { AttackContext } from "../context.ts";
import { articlePayload, drop, signedEnvelope } from "../craft.ts";
import { rejectedEnvelope } from "../expect.ts";
import { runBatch, type Try } from "../tries.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "hop-skipping";

async function skip(
  ctx: AttackContext,
  options: { to: string; folder: string; tried: string },
): Promise<Try> {
  const env = await signedEnvelope(ctx, {
    from: "intake",
    to: options.to,
    template: "blog_article_intent",
    payload: articlePayload(`skip to ${options.to}`),
  });
  return {
    act: () => drop(ctx, options.to, options.folder, env.bytes, env.envelopeId),
    expect: rejectedEnvelope({
      tried: options.tried,
      agent: options.to,
      envelopeId: env.envelopeId,
      code: "edge_not_allowed",
      step: 7,
    }),
  };
}

/** Attack 5. */
export const hopSkipping: Attack = {
  name: NAME,
  number: 5,
  summary:
    "sends intake's correctly signed article straight to deployment and to planner: the edge check must refuse both (edge_not_allowed)",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    return await runBatch(ctx, NAME, [
      await skip(ctx, {
        to: "deployment",
        folder: "text_formatter",
        tried: "intake → deployment directly, correctly signed",
      }),
      await skip(ctx, {
        to: "planner",
        folder: "sanitization",
        tried: "intake → planner directly (skipping sanitization), correctly signed",
      }),
    ]);
  },
};
