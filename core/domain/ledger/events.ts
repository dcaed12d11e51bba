/**
 * Audit events (docs/design.md section 7): the typed record every process reports and the
 * supervisor appends to the ledger. {@linkcode encodeEvent} fixes the exact bytes a
 * ledger record stores (one key order, no whitespace); {@linkcode decodeEvent} reads
 * them back strictly, refusing unknown fields, unknown types, malformed ids and
 * reason codes that are not SAOE reason codes.
 *
 * @module
 */
import {
  OTHER_CODES,
  type ReasonCode,
  SaoeError,
  VALIDATION_CODES,
} from "../../primitives/errors.ts";
import { utf8 } from "../../primitives/crypto/bytes.ts";
import { anyObject, type Decoder, obj, oneOf, optional } from "../../primitives/json/decode.ts";
import { type JsonObject, parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { agentId, sessionId, uuid } from "../../primitives/ids/patterns.ts";
import { type Clock, systemClock } from "../../primitives/time/clock.ts";
import { formatTimestamp, timestamp } from "../../primitives/time/timestamp.ts";

/** Every audit event type, in the order of docs/design.md section 7. */
export const EVENT_TYPES = [
  "validated",
  "rejected",
  "forwarded",
  "plan_issued",
  "plan_rejected",
  "tool_executed",
  "handler_error",
  "published",
  "quarantine_limit_exceeded",
  "intake_accepted",
  "intake_refused",
  "agent_started",
  "agent_exited",
  "agent_refused",
  "stray_moved",
  "sandbox_violation",
  "key_rotated",
  "trust_refused",
  "trust_versions",
  "operator_action",
  "operator_action_refused",
  "checkpoint",
] as const;

/** One audit event type. */
export type EventType = typeof EVENT_TYPES[number];

/** Largest encoded event, in bytes: the ledger refuses anything bigger. */
export const MAX_EVENT_BYTES = 64 * 1024;

/** An audit event as stored in the ledger. */
export interface AuditEvent {
  /** What happened. */
  type: EventType;
  /** When it happened: RFC 3339 UTC timestamp. */
  at: string;
  /** The agent (or `supervisor`) that reports the event. */
  agent: string;
  /** The session concerned, when known. */
  session_id?: string;
  /** The envelope concerned, when known. */
  envelope_id?: string;
  /** The reason code of a refusal or failure. */
  reason?: ReasonCode;
  /** Structured details (e.g. `{"message": …, "exit_code": 1}`). */
  detail?: JsonObject;
}

const REASON_CODES: readonly ReasonCode[] = [...VALIDATION_CODES, ...OTHER_CODES];

const eventShape = obj({
  type: oneOf(EVENT_TYPES),
  at: timestamp,
  agent: agentId,
  session_id: optional(sessionId),
  envelope_id: optional(uuid),
  reason: optional(oneOf(REASON_CODES)),
  detail: optional(anyObject),
});

/** Strict decoder of a parsed audit event. */
export const auditEvent: Decoder<AuditEvent> = eventShape;

/** Fields of {@linkcode buildEvent}; `at` defaults to the clock's now. */
export interface EventFields {
  type: EventType;
  agent: string;
  at?: string;
  session_id?: string;
  envelope_id?: string;
  reason?: ReasonCode;
  detail?: JsonObject;
}

/**
 * Builds a validated audit event, stamping `at` from `clock` when not given.
 *
 * @example
 * ```ts
 * import { buildEvent } from "./events.ts";
 * const event = buildEvent({ type: "agent_started", agent: "planner" });
 * if (event.type !== "agent_started") throw new Error();
 * ```
 */
export function buildEvent(fields: EventFields, clock: Clock = systemClock): AuditEvent {
  return auditEvent({ ...fields, at: fields.at ?? formatTimestamp(clock.now()) }, "$");
}

/**
 * Encodes an event as the exact bytes a ledger record stores: fields in a fixed
 * order, compact JSON. The event is validated first, so no malformed event is ever
 * written.
 *
 * @example
 * ```ts
 * import { buildEvent, decodeEvent, encodeEvent } from "./events.ts";
 * const bytes = encodeEvent(buildEvent({ type: "published", agent: "deployment" }));
 * if (decodeEvent(bytes).agent !== "deployment") throw new Error();
 * ```
 */
export function encodeEvent(event: AuditEvent): Uint8Array<ArrayBuffer> {
  const e = auditEvent(event, "$");
  const ordered: Record<string, unknown> = { type: e.type, at: e.at, agent: e.agent };
  if (e.session_id !== undefined) ordered.session_id = e.session_id;
  if (e.envelope_id !== undefined) ordered.envelope_id = e.envelope_id;
  if (e.reason !== undefined) ordered.reason = e.reason;
  if (e.detail !== undefined) ordered.detail = e.detail;
  const bytes = utf8(JSON.stringify(ordered));
  if (bytes.byteLength > MAX_EVENT_BYTES) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot encode audit event "${e.type}": ${bytes.byteLength} bytes exceeds the limit of ${MAX_EVENT_BYTES}`,
      { agent: e.agent },
    );
  }
  return bytes;
}

/**
 * Decodes a ledger record's bytes as an audit event, strictly.
 *
 * @example
 * ```ts
 * import { decodeEvent } from "./events.ts";
 * const e = decodeEvent(new TextEncoder().encode(
 *   '{"type":"checkpoint","at":"2026-01-01T00:00:00Z","agent":"supervisor"}',
 * ));
 * if (e.type !== "checkpoint") throw new Error();
 * ```
 */
export function decodeEvent(bytes: Uint8Array): AuditEvent {
  return auditEvent(parseStrictJson(bytes, { maxBytes: MAX_EVENT_BYTES }), "$");
}
