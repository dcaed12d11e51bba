/**
 * Crafting signed SATL envelopes for development and red-team work, including
 * deliberately wrong ones: any signer (another agent's key, a key from no
 * directory), a validity window that already ended, fields set to values the
 * validator must refuse (signed, so the refusal is not a signature failure), and
 * fields tampered with after signing. Nothing here is used by the pipeline; the
 * agents sign with `signEnvelope` from `core/domain/validate/envelope.ts`.
 *
 * @module
 */
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { fromBase64, toBase64, utf8 } from "../../primitives/crypto/bytes.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import { type Clock, systemClock } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import {
  ENVELOPE_VERSION,
  type EnvelopeTemplateRef,
  signEnvelope,
} from "../../domain/validate/envelope.ts";
import { applyFieldEdits, type FieldEdit } from "./field_edit.ts";

/** Default lifetime of a crafted envelope, in seconds. */
export const DEFAULT_EXPIRES_IN_S = 600;

/** Options for {@linkcode craftEnvelope}. */
export interface CraftEnvelopeOptions {
  /** The `sender` field (who the envelope claims to come from). */
  from: string;
  /** The `receiver` field. */
  to: string;
  template: EnvelopeTemplateRef;
  payload: JsonObject;
  /** The key that signs: normally `from`'s, deliberately another one to impersonate. */
  signer: SigningKey;
  /** Default: a new random UUID (a new session). */
  sessionId?: string;
  /** Default: a new random UUID. */
  envelopeId?: string;
  /** Default: `crafted with saoe dev envelope`. */
  humanReadable?: string;
  /**
   * Seconds from now until `expires_at`; default {@linkcode DEFAULT_EXPIRES_IN_S}.
   * Zero or less builds a window that already ended: `issued_at` one minute
   * before `expires_at`.
   */
  expiresInS?: number;
  clock?: Clock;
  /** Fields set before signing (the signature covers them), by dotted path. */
  set?: readonly FieldEdit[];
  /** Fields changed after signing (the signature no longer matches). */
  tamper?: readonly FieldEdit[];
}

/** A crafted envelope: the `.satl` bytes and the fields as signed. */
export interface CraftedEnvelope {
  bytes: Uint8Array<ArrayBuffer>;
  /** The payload as signed (before any tampering). */
  fields: JsonObject;
  /** `fields.envelope_id` when it is a string, else `undefined`. */
  envelopeId: string | undefined;
  /** `fields.session_id` when it is a string, else `undefined`. */
  sessionId: string | undefined;
}

/**
 * Builds the envelope fields (no decoding, so deliberately bad values survive),
 * applies `set`, signs with `signer`, then applies `tamper` to the signed bytes.
 *
 * @example
 * ```ts
 * import { craftEnvelope } from "./craft_envelope.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const crafted = await craftEnvelope({
 *   from: "intake", to: "sanitization",
 *   template: { id: "blog_article_intent", version: 1, sha256: "0".repeat(64) },
 *   payload: { title: "T", markdown: "M", image_count: 0 },
 *   signer: await SigningKey.fromSeed(generateSeed()),
 *   set: [{ path: "session_id", value: "../../keys" }],
 * });
 * if (crafted.sessionId !== "../../keys") throw new Error();
 * ```
 */
export async function craftEnvelope(options: CraftEnvelopeOptions): Promise<CraftedEnvelope> {
  const now = (options.clock ?? systemClock).now();
  const expiresIn = (options.expiresInS ?? DEFAULT_EXPIRES_IN_S) * 1000;
  const expiresAt = now + expiresIn;
  const issuedAt = expiresIn > 0 ? now : expiresAt - 60_000;
  const fields: JsonObject = {
    version: ENVELOPE_VERSION,
    envelope_id: options.envelopeId ?? crypto.randomUUID(),
    session_id: options.sessionId ?? crypto.randomUUID(),
    sender: options.from,
    receiver: options.to,
    issued_at: formatTimestamp(issuedAt),
    expires_at: formatTimestamp(expiresAt),
    human_readable: options.humanReadable ?? "crafted with saoe dev envelope",
    template: { ...options.template },
    payload: options.payload,
  };
  applyFieldEdits(fields, options.set ?? []);
  let bytes = await signEnvelope({ fields, signer: options.signer });
  if (options.tamper !== undefined && options.tamper.length > 0) {
    bytes = tamperSignedPayload(bytes, options.tamper);
  }
  return {
    bytes,
    fields,
    envelopeId: typeof fields.envelope_id === "string" ? fields.envelope_id : undefined,
    sessionId: typeof fields.session_id === "string" ? fields.session_id : undefined,
  };
}

interface Wrapper {
  payloadType: string;
  payload: string;
  signatures: unknown[];
}

function readWrapper(bytes: Uint8Array): Wrapper {
  const doc = JSON.parse(new TextDecoder().decode(bytes)) as Wrapper;
  if (typeof doc?.payload !== "string") {
    throw new RangeError("Cannot tamper: the bytes are not a DSSE envelope with a payload");
  }
  return doc;
}

/**
 * Rewrites fields of a signed envelope's payload without re-signing: the result
 * carries the original signatures over different bytes.
 *
 * @example
 * ```ts
 * import { tamperSignedPayload } from "./craft_envelope.ts";
 * const signed = new TextEncoder().encode(JSON.stringify({
 *   payloadType: "t", payload: btoa('{"a":1}'), signatures: [{ keyid: "k", sig: "AA==" }],
 * }));
 * const out = JSON.parse(new TextDecoder().decode(tamperSignedPayload(signed, [{ path: "a", value: 2 }])));
 * if (atob(out.payload) !== '{"a":2}') throw new Error();
 * ```
 */
export function tamperSignedPayload(
  bytes: Uint8Array,
  edits: readonly FieldEdit[],
): Uint8Array<ArrayBuffer> {
  const doc = readWrapper(bytes);
  const payload = JSON.parse(new TextDecoder().decode(fromBase64(doc.payload))) as JsonObject;
  applyFieldEdits(payload, edits);
  doc.payload = toBase64(utf8(JSON.stringify(payload)));
  return utf8(JSON.stringify(doc));
}

/**
 * Flips one bit of one byte of a signed envelope's payload (the byte at
 * `index`, default the middle one), without re-signing.
 *
 * @example
 * ```ts
 * import { flipPayloadByte } from "./craft_envelope.ts";
 * const signed = new TextEncoder().encode(JSON.stringify({
 *   payloadType: "t", payload: btoa('{"a":"bc"}'), signatures: [],
 * }));
 * const out = JSON.parse(new TextDecoder().decode(flipPayloadByte(signed, 6)));
 * if (atob(out.payload) !== '{"a":"cc"}') throw new Error(atob(out.payload));
 * ```
 */
export function flipPayloadByte(bytes: Uint8Array, index?: number): Uint8Array<ArrayBuffer> {
  const doc = readWrapper(bytes);
  const payload = fromBase64(doc.payload);
  const at = index ?? Math.floor(payload.byteLength / 2);
  if (at < 0 || at >= payload.byteLength) {
    throw new RangeError(`Cannot flip payload byte ${at}: the payload has ${payload.byteLength}`);
  }
  payload[at] = payload[at]! ^ 0x01;
  doc.payload = toBase64(payload);
  return utf8(JSON.stringify(doc));
}
