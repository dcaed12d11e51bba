/**
 * Crafting inputs against the target with its local keys: signed envelopes
 * (through `core/devtools/dev`), drops into inboxes as a sender would, execution plans
 * signed by any key, and the payloads the pipeline's templates expect.
 *
 * @module
 */
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import { type CraftedEnvelope, craftEnvelope } from "../dev/craft_envelope.ts";
import type { FieldEdit } from "../dev/field_edit.ts";
import { injectFile } from "../dev/inject.ts";
import { type PlanCall, signPlan } from "../../domain/toolgate/plan.ts";
import type { AttackContext } from "./context.ts";

/** Options for {@linkcode signedEnvelope}. */
export interface SignedEnvelopeOptions {
  from: string;
  to: string;
  template: string;
  payload: JsonObject;
  /** Sign with this agent's key instead of `from`'s. */
  signAs?: string;
  /** Sign with this key instead. */
  signer?: SigningKey;
  sessionId?: string;
  envelopeId?: string;
  humanReadable?: string;
  expiresInS?: number;
  set?: readonly FieldEdit[];
  tamper?: readonly FieldEdit[];
}

/** Signs an envelope with the target's keys (see `core/devtools/dev/craft_envelope.ts`). */
export async function signedEnvelope(
  ctx: AttackContext,
  o: SignedEnvelopeOptions,
): Promise<CraftedEnvelope & { envelopeId: string; sessionId: string }> {
  const envelopeId = o.envelopeId ?? crypto.randomUUID();
  const sessionId = o.sessionId ?? crypto.randomUUID();
  const crafted = await craftEnvelope({
    from: o.from,
    to: o.to,
    template: await ctx.templateRef(o.template),
    payload: o.payload,
    signer: o.signer ?? await ctx.signer(o.signAs ?? o.from),
    envelopeId,
    sessionId,
    humanReadable: o.humanReadable ?? "saoe attack",
    ...(o.expiresInS !== undefined ? { expiresInS: o.expiresInS } : {}),
    ...(o.set !== undefined ? { set: o.set } : {}),
    ...(o.tamper !== undefined ? { tamper: o.tamper } : {}),
  });
  return { ...crafted, envelopeId, sessionId };
}

/** Drops `bytes` into `agents/<receiver>/inbox/<sender>/` as `<entryId>.satl` (default random). */
export async function drop(
  ctx: AttackContext,
  receiver: string,
  sender: string,
  bytes: Uint8Array,
  entryId?: string,
): Promise<string> {
  return await injectFile({
    home: ctx.home,
    receiver,
    sender,
    bytes,
    entryId: entryId ?? crypto.randomUUID(),
  });
}

/** A valid `blog_article_intent` payload. */
export function articlePayload(title: string, markdown = "Body text."): JsonObject {
  return { title, markdown, image_count: 0 };
}

/** Options for {@linkcode planText}. */
export interface PlanTextOptions {
  session: string;
  envelopeId: string;
  calls: PlanCall[];
  /** Default: the planner's own key. */
  signer?: SigningKey;
  planId?: string;
}

/** Signs an execution plan and returns its DSSE text and id. */
export async function planText(
  ctx: AttackContext,
  o: PlanTextOptions,
): Promise<{ text: string; planId: string }> {
  const planId = o.planId ?? crypto.randomUUID();
  const bytes = await signPlan({
    plan: {
      plan_id: planId,
      session_id: o.session,
      envelope_id: o.envelopeId,
      issuer: "planner",
      calls: o.calls,
    },
    signers: [o.signer ?? await ctx.signer("planner")],
    issuedAt: Date.now(),
    validForMs: 600_000,
  });
  return { text: new TextDecoder().decode(bytes), planId };
}
