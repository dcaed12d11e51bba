/**
 * The planner's compilation of intent into execution plans: which tool calls
 * each branch of an article needs, signed as the planner and bound to the
 * session and to the id of the very envelope that will carry the plan, so
 * ToolGate runs it only for that envelope, once.
 *
 * @module
 */
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { DEFAULT_ENVELOPE_TTL_MS } from "../../domain/validate/envelope.ts";
import { PLAN_ISSUER, type PlanCall, signPlan } from "../../domain/toolgate/plan.ts";
import type { ImageMediaType } from "./payloads.ts";

/** Longest edge of a published image, in pixels. */
export const IMAGE_RESIZE_MAX = 1600;

/**
 * The calls that format an article: one `markdown_to_html` with no arguments.
 *
 * @example
 * ```ts
 * import { textFormatCalls } from "./plans.ts";
 * if (textFormatCalls()[0]?.tool !== "markdown_to_html") throw new Error();
 * ```
 */
export function textFormatCalls(): PlanCall[] {
  return [{ id: "c1", tool: "markdown_to_html", args: {} }];
}

/**
 * The calls that sanitise one image: `image_sanitize`, keeping JPEG as JPEG and
 * everything else as PNG, the long edge at most {@linkcode IMAGE_RESIZE_MAX}.
 *
 * @example
 * ```ts
 * import { imageSanitizeCalls } from "./plans.ts";
 * if (imageSanitizeCalls("image/jpeg")[0]?.args.format !== "jpeg") throw new Error();
 * ```
 */
export function imageSanitizeCalls(mediaType: ImageMediaType): PlanCall[] {
  const format = mediaType === "image/jpeg" ? "jpeg" : "png";
  return [{ id: "c1", tool: "image_sanitize", args: { format, resize_max: IMAGE_RESIZE_MAX } }];
}

/** Options for {@linkcode issuePlan}. */
export interface IssuePlanOptions {
  /** The planner's signing key. */
  signer: SigningKey;
  session: string;
  /** Id of the envelope that will carry the plan (generated before sending). */
  envelopeId: string;
  calls: PlanCall[];
  /** Issue time in epoch milliseconds. */
  now: number;
  /** Validity in milliseconds; default the envelope lifetime. */
  validForMs?: number;
}

/** A signed plan, ready to embed in an envelope payload. */
export interface IssuedPlan {
  planId: string;
  /** The DSSE JSON text of the signed plan. */
  text: string;
  tools: string[];
}

/**
 * Signs a plan as the planner, bound to `session` and `envelopeId`.
 *
 * @example
 * ```ts
 * import { issuePlan, textFormatCalls } from "./plans.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const plan = await issuePlan({
 *   signer: await SigningKey.fromSeed(generateSeed()),
 *   session: crypto.randomUUID(), envelopeId: crypto.randomUUID(),
 *   calls: textFormatCalls(), now: Date.now(),
 * });
 * if (!plan.text.startsWith("{")) throw new Error();
 * ```
 */
export async function issuePlan(options: IssuePlanOptions): Promise<IssuedPlan> {
  const planId = crypto.randomUUID();
  const bytes = await signPlan({
    plan: {
      plan_id: planId,
      session_id: options.session,
      envelope_id: options.envelopeId,
      issuer: PLAN_ISSUER,
      calls: options.calls,
    },
    signers: [options.signer],
    issuedAt: options.now,
    validForMs: options.validForMs ?? DEFAULT_ENVELOPE_TTL_MS,
  });
  return {
    planId,
    text: new TextDecoder("utf-8", { fatal: true }).decode(bytes),
    tools: options.calls.map((c) => c.tool),
  };
}
