/**
 * The SATL envelope: the payload of a DSSE statement of type
 * `application/vnd.saoe.envelope.v1+json` (docs/design.md section 3), its strict decoder
 * and the helpers that build and sign one.
 *
 * The decoder trusts nothing: it is only ever applied to payload bytes whose
 * signature already verified, and still refuses unknown fields, wrong types, an
 * unsupported `version` (`unsupported_version`) and any identifier that does not
 * match its strict pattern (`bad_identifier`), so an id is safe to use in a path,
 * a query or a vault lookup once decoded.
 *
 * @module
 */
import type { RefusalIds } from "../../primitives/errors.ts";
import { utf8 } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import {
  anyObject,
  DecodeError,
  type Decoder,
  int,
  literal,
  obj,
  str,
} from "../../primitives/json/decode.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import {
  AGENT_ID_RE,
  agentId,
  assertIdentifier,
  MAX_VERSION,
  sessionId,
  sha256HexId,
  TEMPLATE_ID_RE,
  templateId,
  uuid,
  UUID_RE,
} from "../../primitives/ids/patterns.ts";
import { type Clock, systemClock } from "../../primitives/time/clock.ts";
import { formatTimestamp, timestamp } from "../../primitives/time/timestamp.ts";

/** The only envelope format version this code accepts. */
export const ENVELOPE_VERSION = "1";
/** Longest `human_readable` summary, in UTF-16 units. */
export const MAX_HUMAN_READABLE = 2000;
/** File name suffix of an envelope on disk: `<envelope_id>.satl`. */
export const ENVELOPE_FILE_SUFFIX = ".satl";
/** Default lifetime of an envelope made by {@linkcode createEnvelope}: 10 minutes. */
export const DEFAULT_ENVELOPE_TTL_MS = 600_000;

/**
 * Wraps an identifier decoder of `core/primitives/ids` so that every string it refuses (a
 * pattern miss or an over-long value such as a UUID with a trailing newline) is
 * reported as `bad_identifier` whatever the decoder's own code; a non-string
 * stays `parse_error`.
 */
function identifier<T>(decoder: Decoder<T>, what: string): Decoder<T> {
  return (value, path) => {
    try {
      return decoder(value, path);
    } catch (err: unknown) {
      if (
        typeof value === "string" && err instanceof DecodeError && err.code !== "bad_identifier"
      ) {
        throw new DecodeError(path, what, "bad_identifier");
      }
      throw err;
    }
  };
}

const templateRef = obj({
  id: identifier(templateId, "a template id (lowercase letters, digits, _)"),
  version: int(1, MAX_VERSION),
  sha256: identifier(sha256HexId, "a lowercase hex SHA-256 digest"),
});

const envelopeShape = obj({
  version: literal(ENVELOPE_VERSION, "unsupported_version"),
  envelope_id: identifier(uuid, "a lowercase UUID"),
  session_id: identifier(sessionId, "a lowercase UUID"),
  sender: identifier(agentId, "an agent id (lowercase letters, digits, _)"),
  receiver: identifier(agentId, "an agent id (lowercase letters, digits, _)"),
  issued_at: timestamp,
  expires_at: timestamp,
  human_readable: str({ maxLength: MAX_HUMAN_READABLE }),
  template: templateRef,
  payload: anyObject,
});

/** The template an envelope claims to follow: id, version and SHA-256 of its plaintext. */
export type EnvelopeTemplateRef = {
  id: string;
  version: number;
  /** Lowercase hex SHA-256 of the template's plaintext bytes. */
  sha256: string;
};

/** A decoded SATL envelope payload. */
export type Envelope = {
  version: typeof ENVELOPE_VERSION;
  envelope_id: string;
  session_id: string;
  sender: string;
  receiver: string;
  issued_at: string;
  expires_at: string;
  human_readable: string;
  template: EnvelopeTemplateRef;
  payload: JsonObject;
};

/**
 * Decodes an envelope payload strictly. The version is checked first, so a
 * future format is refused as `unsupported_version` rather than for its fields.
 *
 * @example
 * ```ts
 * import { decodeEnvelope } from "./envelope.ts";
 * try {
 *   decodeEnvelope({ version: "2" }, "$");
 *   throw new Error("unexpected");
 * } catch (err: unknown) {
 *   if ((err as { code?: string }).code !== "unsupported_version") throw err;
 * }
 * ```
 */
export function decodeEnvelope(value: unknown, path = "$"): Envelope {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new DecodeError(path, "an object");
  }
  if (Object.hasOwn(value, "version")) {
    literal(ENVELOPE_VERSION, "unsupported_version")(
      (value as Record<string, unknown>).version,
      `${path}.version`,
    );
  }
  return envelopeShape(value, path);
}

function pick(value: Record<string, unknown>, key: string, pattern: RegExp): string | undefined {
  const v = value[key];
  return typeof v === "string" && pattern.test(v) ? v : undefined;
}

/**
 * The identifiers of a (possibly invalid) envelope payload that match their
 * strict patterns, for refusal messages and audit events. Ids that do not match
 * are left out, so attacker-chosen text never reaches the audit trail.
 *
 * @example
 * ```ts
 * import { peekEnvelopeIds } from "./envelope.ts";
 * const ids = peekEnvelopeIds({ sender: "planner", session_id: "../x" });
 * if (ids.sender !== "planner" || "session_id" in ids) throw new Error("unexpected");
 * ```
 */
export function peekEnvelopeIds(value: unknown): RefusalIds {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  const record = value as Record<string, unknown>;
  const ids: RefusalIds = {};
  const envelopeId = Object.hasOwn(record, "envelope_id")
    ? pick(record, "envelope_id", UUID_RE)
    : undefined;
  if (envelopeId !== undefined) ids.envelope_id = envelopeId;
  const session = Object.hasOwn(record, "session_id")
    ? pick(record, "session_id", UUID_RE)
    : undefined;
  if (session !== undefined) ids.session_id = session;
  const sender = Object.hasOwn(record, "sender") ? pick(record, "sender", AGENT_ID_RE) : undefined;
  if (sender !== undefined) ids.sender = sender;
  const receiver = Object.hasOwn(record, "receiver")
    ? pick(record, "receiver", AGENT_ID_RE)
    : undefined;
  if (receiver !== undefined) ids.receiver = receiver;
  const template = record.template;
  if (Object.hasOwn(record, "template") && template !== null && typeof template === "object") {
    const id = Object.hasOwn(template, "id")
      ? pick(template as Record<string, unknown>, "id", TEMPLATE_ID_RE)
      : undefined;
    if (id !== undefined) ids.template_id = id;
  }
  return ids;
}

/** The ids of a decoded envelope, as carried by refusals and audit events. */
export function envelopeIds(envelope: Envelope): RefusalIds {
  return {
    envelope_id: envelope.envelope_id,
    session_id: envelope.session_id,
    sender: envelope.sender,
    receiver: envelope.receiver,
    template_id: envelope.template.id,
  };
}

/** Options for {@linkcode createEnvelope}. */
export interface CreateEnvelopeOptions {
  sender: string;
  receiver: string;
  template: EnvelopeTemplateRef;
  payload: JsonObject;
  /** Short summary for humans; default empty. */
  human_readable?: string;
  /** Default: a new random UUID (a new session). */
  session_id?: string;
  /** Default: a new random UUID. */
  envelope_id?: string;
  /** Source of `issued_at`; default the system clock. */
  clock?: Clock;
  /** Lifetime; default {@linkcode DEFAULT_ENVELOPE_TTL_MS}. */
  ttlMs?: number;
}

/**
 * Builds a well-formed envelope payload (it is decoded before being returned, so
 * a bad id or an over-long summary throws here rather than at the receiver).
 *
 * @example
 * ```ts
 * import { createEnvelope } from "./envelope.ts";
 * const env = createEnvelope({
 *   sender: "planner",
 *   receiver: "deployment",
 *   template: { id: "article", version: 1, sha256: "0".repeat(64) },
 *   payload: { title: "Hello" },
 * });
 * if (env.version !== "1" || env.receiver !== "deployment") throw new Error("unexpected");
 * ```
 */
export function createEnvelope(options: CreateEnvelopeOptions): Envelope {
  const now = (options.clock ?? systemClock).now();
  const fields = {
    version: ENVELOPE_VERSION,
    envelope_id: options.envelope_id ?? crypto.randomUUID(),
    session_id: options.session_id ?? crypto.randomUUID(),
    sender: options.sender,
    receiver: options.receiver,
    issued_at: formatTimestamp(now),
    expires_at: formatTimestamp(now + (options.ttlMs ?? DEFAULT_ENVELOPE_TTL_MS)),
    human_readable: options.human_readable ?? "",
    template: {
      id: options.template.id,
      version: options.template.version,
      sha256: options.template.sha256,
    },
    payload: options.payload,
  };
  return decodeEnvelope(fields, "$");
}

/** Options for {@linkcode signEnvelope}. */
export interface SignEnvelopeOptions {
  /**
   * The payload to sign: normally an {@linkcode Envelope} from
   * {@linkcode createEnvelope}; any JSON object is accepted so that development
   * tools can craft deliberately bad envelopes.
   */
  fields: Envelope | JsonObject;
  /** The sender's key. */
  signer: SigningKey;
}

/**
 * Signs an envelope payload as a DSSE statement of the envelope payload type and
 * returns the bytes of the `.satl` file.
 *
 * @example
 * ```ts
 * import { createEnvelope, signEnvelope } from "./envelope.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const signer = await SigningKey.fromSeed(generateSeed());
 * const fields = createEnvelope({
 *   sender: "planner",
 *   receiver: "deployment",
 *   template: { id: "article", version: 1, sha256: "0".repeat(64) },
 *   payload: {},
 * });
 * const bytes = await signEnvelope({ fields, signer });
 * if (bytes.byteLength === 0) throw new Error("unexpected");
 * ```
 */
export function signEnvelope(options: SignEnvelopeOptions): Promise<Uint8Array<ArrayBuffer>> {
  return signStatement({
    payloadType: PAYLOAD_TYPES.envelope,
    payload: utf8(JSON.stringify(options.fields)),
    signers: [options.signer],
  });
}

/**
 * The on-disk file name of an envelope, `<envelope_id>.satl`; refuses a malformed
 * id with `bad_identifier`, so the name can never escape its folder.
 *
 * @example
 * ```ts
 * import { envelopeFileName } from "./envelope.ts";
 * const name = envelopeFileName("0190f3a2-7b1c-7def-8a12-3456789abcde");
 * if (name !== "0190f3a2-7b1c-7def-8a12-3456789abcde.satl") throw new Error("unexpected");
 * ```
 */
export function envelopeFileName(envelopeId: string): string {
  return assertIdentifier(envelopeId, UUID_RE, "envelope id") + ENVELOPE_FILE_SUFFIX;
}
