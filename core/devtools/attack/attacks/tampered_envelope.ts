/**
 * Attack 1: a signed envelope changed after signing. One byte of the payload,
 * the `human_readable` summary, the `session_id` (to graft it onto another
 * session) and the `receiver` (an envelope signed for planner redirected to
 * sanitization) are each changed without re-signing; the receiving agent's
 * signature check (validation step 4) must refuse every one with
 * `bad_signature`.
 *
 * @module
 */
import { flipPayloadByte, tamperSignedPayload } from "../../dev/craft_envelope.ts";
import { fromBase64 } from "../../../primitives/crypto/bytes.ts";
import type { AttackContext } from "../context.ts";
import { articlePayload, drop, signedEnvelope } from "../craft.ts";
import { rejectedInOrder, runInOrder, type Try } from "../tries.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "tampered-envelope";
const SUMMARY = "tampered payload";

/** Index of the first character of the `human_readable` value in the signed payload. */
function summaryByte(bytes: Uint8Array): number {
  const doc = JSON.parse(new TextDecoder().decode(bytes));
  const payload = new TextDecoder().decode(fromBase64(doc.payload));
  const at = payload.indexOf('"human_readable":"');
  if (at < 0) throw new RangeError("The crafted payload has no human_readable field");
  // ASCII up to here, so the character index is the byte index
  return at + '"human_readable":"'.length;
}

async function tries(ctx: AttackContext): Promise<Try[]> {
  const base = {
    from: "intake",
    to: "sanitization",
    template: "blog_article_intent",
    humanReadable: SUMMARY,
  };
  const out: Try[] = [];
  const add = (tried: string, envelopeId: string, bytes: Uint8Array) =>
    out.push({
      act: () => drop(ctx, "sanitization", "intake", bytes),
      expect: rejectedInOrder({
        tried,
        agent: "sanitization",
        code: "bad_signature",
        envelopeId,
        step: 4,
      }),
    });

  const oneByte = await signedEnvelope(ctx, { ...base, payload: articlePayload("one byte") });
  add(
    "one payload byte flipped after signing",
    oneByte.envelopeId,
    flipPayloadByte(oneByte.bytes, summaryByte(oneByte.bytes)),
  );
  const summary = await signedEnvelope(ctx, { ...base, payload: articlePayload("summary") });
  add(
    "human_readable rewritten after signing",
    summary.envelopeId,
    tamperSignedPayload(summary.bytes, [
      { path: "human_readable", value: "approved by the operator" },
    ]),
  );
  const session = await signedEnvelope(ctx, { ...base, payload: articlePayload("session") });
  add(
    "session_id moved to another session after signing",
    session.envelopeId,
    tamperSignedPayload(session.bytes, [{ path: "session_id", value: crypto.randomUUID() }]),
  );
  const redirected = await signedEnvelope(ctx, {
    ...base,
    to: "planner",
    payload: articlePayload("receiver"),
  });
  add(
    "receiver changed from planner to sanitization after signing",
    redirected.envelopeId,
    tamperSignedPayload(redirected.bytes, [{ path: "receiver", value: "sanitization" }]),
  );
  return out;
}

/** Attack 1. */
export const tamperedEnvelope: Attack = {
  name: NAME,
  number: 1,
  summary:
    "changes one payload byte, human_readable, session_id or receiver of a signed envelope: the receiver's signature check must refuse each (bad_signature)",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    return await runInOrder(ctx, NAME, await tries(ctx));
  },
};
