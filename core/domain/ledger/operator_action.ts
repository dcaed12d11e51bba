/**
 * Operator actions in the audit ledger: `saoe quarantine retry|drop`,
 * `saoe publish` and `saoe publish --tools` are each recorded as one
 * `operator_action` event (`detail.action`, the ids involved), in the
 * supervisor's name, the one identity that writes the ledger.
 *
 * Who appends it: with no pipeline running, the CLI itself, holding the
 * ledger's writer lock (as `saoe keys` records `key_rotated`). While a pipeline
 * runs it holds the lock, so the CLI hands the action over as an **operator
 * request**: a DSSE statement (`application/vnd.saoe.operator-request.v1+json`)
 * `{request_id, issued_at, expires_at, action}` signed with the supervisor's own
 * key from the key store (the operator holds it, no agent can), written
 * atomically as `agents/supervisor/requests/<request_id>.json`, a folder no
 * capability set may grant. The supervisor verifies it (size, signature by its
 * own key, strict JSON, exact shape, fresh, not seen before) with
 * {@linkcode verifyOperatorRequest}, appends the event with `detail.request_id`,
 * and removes the file; a request that does not verify is recorded as
 * `operator_action_refused` (with the reason code), never as given.
 *
 * @module
 */
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES, type PublicKeyEntry } from "../../primitives/dsse/types.ts";
import { verifyStatement } from "../../primitives/dsse/verify.ts";
import { SaoeError } from "../../primitives/errors.ts";
import { agentId, MAX_VERSION, sha256HexId, uuid } from "../../primitives/ids/patterns.ts";
import {
  arr,
  bool,
  DecodeError,
  type Decoder,
  int,
  literal,
  obj,
  oneOf,
  optional,
  str,
} from "../../primitives/json/decode.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp, parseTimestamp, timestamp } from "../../primitives/time/timestamp.ts";
import { SUPERVISOR_ID } from "../home/layout.ts";
import { type AuditEvent, buildEvent } from "./events.ts";

/** One recorded operator action. */
export type OperatorAction =
  | QuarantineAction
  | PublishAction
  | PublishToolsAction
  | PublishCodeAction;

/** A dead-letter entry retried or dropped. */
export interface QuarantineAction {
  action: "quarantine_retry" | "quarantine_drop";
  agent: string;
  /** The dead-letter key. */
  key: string;
  /** The reason code the entry was dead-lettered with, when known. */
  code?: string;
  envelope_id?: string;
  session_id?: string;
  /** Where a retried entry was moved. */
  moved_to?: string;
  /** Whether a supervisor was running (the agent picks a retry up at once). */
  pipeline_running: boolean;
}

/** A template or capability set published (`saoe publish`). */
export interface PublishAction {
  action: "publish";
  kind: "template" | "capset";
  /** Template id, or the agent of a capability set. */
  id: string;
  version: number;
  previous_version: number;
  /** Hex SHA-256 of the exact source bytes the operator confirmed. */
  sha256: string;
  /** How the hash was confirmed. */
  confirmed_by: "terminal" | "flag";
  /** Vault files written. */
  files: string[];
  /** Whether a supervisor was running (it picks the change up when the vault changes). */
  pipeline_running: boolean;
}

/** The built-in tools re-pinned (`saoe publish --tools`). */
export interface PublishToolsAction {
  action: "publish_tools";
  version: number;
  previous_version: number;
  /** Hex SHA-256 of the new tool list the operator confirmed. */
  sha256: string;
  /** Each tool whose pin changed, with the old and new module digests. */
  tools: { name: string; from: string | null; to: string | null }[];
  confirmed_by: "terminal" | "flag";
  files: string[];
  pipeline_running: boolean;
}

/** Every agent's code re-pinned (`saoe publish --code`). */
export interface PublishCodeAction {
  action: "publish_code";
  version: number;
  previous_version: number;
  /** Hex SHA-256 of the new code pins the operator confirmed. */
  sha256: string;
  /** How many files' pins changed. */
  changed_files: number;
  /** Agents whose file lists changed. */
  agents: string[];
  confirmed_by: "terminal" | "flag";
  files: string[];
  pipeline_running: boolean;
}

/** Largest operator request file. */
export const MAX_REQUEST_BYTES = 48 * 1024;
/** How long a request stays valid after it is signed. */
export const REQUEST_TTL_MS = 5 * 60_000;
/** The longest validity a request may claim. */
const MAX_REQUEST_LIFETIME_MS = 10 * 60_000;

function nullable<T>(decoder: Decoder<T>): Decoder<T | null> {
  return (value, path) => (value === null ? null : decoder(value, path));
}

const path = str({ pattern: /^\/[^\0\n]*$/, maxLength: 4096, what: "an absolute path" });
const version = int(0, MAX_VERSION);
const digest = nullable(sha256HexId);

const quarantineShape: Decoder<QuarantineAction> = obj({
  action: oneOf(["quarantine_retry", "quarantine_drop"] as const),
  agent: agentId,
  key: str({ pattern: /^[0-9a-f-]{36}$/, maxLength: 36, what: "a dead-letter key" }),
  code: optional(str({ pattern: /^[a-z_]{1,64}$/, maxLength: 64, what: "a reason code" })),
  envelope_id: optional(uuid),
  session_id: optional(uuid),
  moved_to: optional(path),
  pipeline_running: bool,
});

const publishShape: Decoder<PublishAction> = obj({
  action: literal("publish"),
  kind: oneOf(["template", "capset"] as const),
  id: str({ pattern: /^[a-z][a-z0-9_]{0,63}$/, maxLength: 64, what: "a template or agent id" }),
  version,
  previous_version: version,
  sha256: sha256HexId,
  confirmed_by: oneOf(["terminal", "flag"] as const),
  files: arr(path, 256),
  pipeline_running: bool,
});

const publishToolsShape: Decoder<PublishToolsAction> = obj({
  action: literal("publish_tools"),
  version,
  previous_version: version,
  sha256: sha256HexId,
  tools: arr(
    obj({
      name: str({ pattern: /^[a-z][a-z0-9_]{0,63}$/, maxLength: 64, what: "a tool name" }),
      from: digest,
      to: digest,
    }),
    256,
  ),
  confirmed_by: oneOf(["terminal", "flag"] as const),
  files: arr(path, 16),
  pipeline_running: bool,
});

const publishCodeShape: Decoder<PublishCodeAction> = obj({
  action: literal("publish_code"),
  version,
  previous_version: version,
  sha256: sha256HexId,
  changed_files: int(0, 1_000_000),
  agents: arr(agentId, 64),
  confirmed_by: oneOf(["terminal", "flag"] as const),
  files: arr(path, 16),
  pipeline_running: bool,
});

/**
 * Decodes an operator action strictly (unknown fields and actions refused).
 *
 * @example
 * ```ts
 * import { decodeOperatorAction } from "./operator_action.ts";
 * const a = decodeOperatorAction({
 *   action: "quarantine_drop", agent: "planner",
 *   key: "00000000-0000-4000-8000-000000000000", pipeline_running: false,
 * }, "$");
 * if (a.action !== "quarantine_drop") throw new Error();
 * ```
 */
export function decodeOperatorAction(value: unknown, at: string): OperatorAction {
  const action = value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>).action
    : undefined;
  switch (action) {
    case "quarantine_retry":
    case "quarantine_drop":
      return quarantineShape(value, at);
    case "publish":
      return publishShape(value, at);
    case "publish_tools":
      return publishToolsShape(value, at);
    case "publish_code":
      return publishCodeShape(value, at);
    default:
      throw new DecodeError(
        `${at}.action`,
        "quarantine_retry, quarantine_drop, publish, publish_tools or publish_code",
      );
  }
}

/** Who appended an `operator_action` event. */
export interface OperatorActionRecorder {
  /** `supervisor`: from a verified request; `saoe`: the CLI, while no pipeline ran. */
  recorded_by: "supervisor" | "saoe";
  /** The request it came from, when the supervisor appended it. */
  request_id?: string;
}

/**
 * The `operator_action` event of `action` (checked with
 * {@linkcode decodeOperatorAction} first): the envelope and session ids of a
 * quarantine action as the event's own ids, the rest in `detail`.
 *
 * @example
 * ```ts
 * import { operatorActionEvent } from "./operator_action.ts";
 * const e = operatorActionEvent({
 *   action: "quarantine_drop", agent: "planner",
 *   key: "00000000-0000-4000-8000-000000000000", pipeline_running: false,
 * }, { recorded_by: "saoe" });
 * if (e.detail?.action !== "quarantine_drop" || e.agent !== "supervisor") throw new Error();
 * ```
 */
export function operatorActionEvent(
  action: OperatorAction,
  recorder: OperatorActionRecorder,
  clock?: Clock,
): AuditEvent {
  const checked = decodeOperatorAction(action, "$.action");
  const { envelope_id, session_id, ...rest } = checked as QuarantineAction;
  return buildEvent({
    type: "operator_action",
    agent: SUPERVISOR_ID,
    ...(session_id !== undefined ? { session_id } : {}),
    ...(envelope_id !== undefined ? { envelope_id } : {}),
    detail: { ...rest, ...recorder } as unknown as JsonObject,
  }, clock);
}

/** A verified operator request. */
export interface OperatorRequest {
  request_id: string;
  issued_at: string;
  expires_at: string;
  action: OperatorAction;
}

const requestShape: Decoder<OperatorRequest> = obj({
  request_id: uuid,
  issued_at: timestamp,
  expires_at: timestamp,
  action: decodeOperatorAction,
});

/** The file name of request `id` in the requests folder. */
export function requestFileName(id: string): string {
  return `${id}.json`;
}

/** Options for {@linkcode signOperatorRequest}. */
export interface SignOperatorRequestOptions {
  action: OperatorAction;
  /** The supervisor's key (from the key store). */
  signer: SigningKey;
  clock: Clock;
  /** Default: a new random UUID. */
  requestId?: string;
}

/**
 * Signs `action` as an operator request valid for {@linkcode REQUEST_TTL_MS}.
 *
 * @example
 * ```ts ignore
 * const { requestId, bytes } = await signOperatorRequest({ action, signer, clock });
 * ```
 */
export async function signOperatorRequest(
  options: SignOperatorRequestOptions,
): Promise<{ requestId: string; bytes: Uint8Array<ArrayBuffer> }> {
  const requestId = options.requestId ?? crypto.randomUUID();
  const now = options.clock.now();
  const payload: OperatorRequest = {
    request_id: requestId,
    issued_at: formatTimestamp(now),
    expires_at: formatTimestamp(now + REQUEST_TTL_MS),
    action: decodeOperatorAction(options.action, "$.action"),
  };
  const bytes = await signStatement({
    payloadType: PAYLOAD_TYPES.operatorRequest,
    payload: payload as unknown as Record<string, unknown>,
    signers: [options.signer],
  });
  if (bytes.byteLength > MAX_REQUEST_BYTES) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot hand the action to the supervisor: the request is ${bytes.byteLength} bytes, more than ${MAX_REQUEST_BYTES}`,
    );
  }
  return { requestId, bytes };
}

/** Options for {@linkcode verifyOperatorRequest}. */
export interface VerifyOperatorRequestOptions {
  /** The supervisor's own public key: the only key a request may be signed with. */
  key: PublicKeyEntry;
  clock: Clock;
  skewMs: number;
}

/**
 * Verifies a request file's bytes: size, DSSE shape, payload type, a signature
 * by `key`, strict JSON, exact shape, freshness (at most 10 minutes of
 * validity). Throws the refusal (`size_exceeded`, `parse_error`,
 * `duplicate_key`, `wrong_payload_type`, `bad_signature`, `expired`, …).
 *
 * @example
 * ```ts
 * import { signOperatorRequest, verifyOperatorRequest } from "./operator_action.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const signer = await SigningKey.fromSeed(generateSeed());
 * const clock = { now: () => Date.parse("2026-01-01T00:00:00Z") };
 * const action = {
 *   action: "quarantine_drop" as const, agent: "planner",
 *   key: "00000000-0000-4000-8000-000000000000", pipeline_running: true,
 * };
 * const { requestId, bytes } = await signOperatorRequest({ action, signer, clock });
 * const key = { keyid: signer.keyid, publicKey: signer.publicKey };
 * const request = await verifyOperatorRequest(bytes, { key, clock, skewMs: 0 });
 * if (request.request_id !== requestId) throw new Error();
 * ```
 */
export async function verifyOperatorRequest(
  bytes: Uint8Array,
  options: VerifyOperatorRequestOptions,
): Promise<OperatorRequest> {
  if (bytes.byteLength > MAX_REQUEST_BYTES) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot accept the operator request: ${bytes.byteLength} bytes exceeds ${MAX_REQUEST_BYTES}`,
    );
  }
  const { payload } = await verifyStatement(bytes, {
    payloadType: PAYLOAD_TYPES.operatorRequest,
    trusted: [{ name: "the supervisor's key", keys: [options.key], threshold: 1 }],
    signatureCode: "bad_signature",
    what: "operator request",
    decode: requestShape,
    clock: options.clock,
    skewMs: options.skewMs,
    maxBytes: MAX_REQUEST_BYTES,
  });
  const lifetime = parseTimestamp(payload.expires_at)! - parseTimestamp(payload.issued_at)!;
  if (lifetime > MAX_REQUEST_LIFETIME_MS) {
    throw new SaoeError(
      "expired",
      `Cannot accept operator request ${payload.request_id}: it claims ${
        Math.round(lifetime / 1000)
      } s of validity, more than ${MAX_REQUEST_LIFETIME_MS / 1000} s`,
    );
  }
  return payload;
}
