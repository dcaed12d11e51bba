/**
 * The one error type SAOE code throws for refusals. Each error carries a stable
 * reason `code` (the validator's codes and those of the trust, capset, vault,
 * ToolGate, intake, ledger and runtime modules, each explained in docs/design.md
 * section 3) and every identifier known when the refusal happened, so an audit
 * event can name what was refused.
 *
 * @module
 */

/** Reason codes of the envelope validator, in validation order (docs/design.md section 3). */
export const VALIDATION_CODES = [
  "size_exceeded",
  "parse_error",
  "duplicate_key",
  "unknown_sender",
  "revoked_key",
  "bad_signature",
  "unsupported_version",
  "bad_identifier",
  "expired",
  "receiver_mismatch",
  "edge_not_allowed",
  "vault_resolution",
  "vault_access",
  "template_hash_mismatch",
  "dispatcher_signature",
  "capset_signature",
  "schema",
  "sender_not_allowed",
  "receiver_not_allowed",
  "payload_too_large",
  "quota_exceeded",
  "replay",
] as const;

/** Reason codes of the trust root, capability sets, vault, ledger and runtime. */
export const OTHER_CODES = [
  "wrong_payload_type",
  "root_pin_mismatch",
  "root_signature",
  "bad_threshold",
  "rollback",
  "chain_too_long",
  "forbidden_grant",
  "plan_binding",
  "tool_not_allowed",
  "tool_hash_mismatch",
  "code_hash_mismatch",
  "tool_timeout",
  "content_hash_mismatch",
  "output_mismatch",
  "not_confirmed",
  "unauthenticated",
  "bad_credential",
  "queue_full",
  "not_found",
  "method_not_allowed",
  "unsupported_media",
  "bad_host",
  "vault_writable",
  "sandbox_unavailable",
  "agent_ids_invalid",
  "unsafe_path",
  "ledger_broken",
  "checkpoint_signature",
  "witness_unavailable",
  "bad_config",
  "handler_error",
  "io_error",
] as const;

/** Every stable reason code SAOE reports. */
export type ReasonCode = typeof VALIDATION_CODES[number] | typeof OTHER_CODES[number];

/** Identifiers known at the moment of a refusal; carried into audit events. */
export interface RefusalIds {
  envelope_id?: string;
  session_id?: string;
  sender?: string;
  receiver?: string;
  template_id?: string;
  agent?: string;
  file?: string;
}

/**
 * A refusal with a stable reason code.
 *
 * @example
 * ```ts
 * import { SaoeError } from "./errors.ts";
 * const err = new SaoeError("replay", "Cannot accept envelope 1: already processed");
 * if (err.code !== "replay") throw new Error("unexpected");
 * ```
 */
export class SaoeError extends Error {
  /** Stable reason code; safe to match on and to audit. */
  readonly code: ReasonCode;
  /** Identifiers parsed before the refusal. */
  readonly ids: RefusalIds;

  /** Creates a refusal with a reason code, a message and the ids known so far. */
  constructor(code: ReasonCode, message: string, ids: RefusalIds = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = "SaoeError";
    this.code = code;
    this.ids = { ...ids };
  }

  /** Returns a copy of this error with more ids attached (earlier ids win). */
  withIds(ids: RefusalIds): SaoeError {
    return new SaoeError(this.code, this.message, { ...ids, ...this.ids }, { cause: this });
  }
}

/** True when `value` is a {@linkcode SaoeError}, optionally with the given code. */
export function isSaoeError(value: unknown, code?: ReasonCode): value is SaoeError {
  return value instanceof SaoeError && (code === undefined || value.code === code);
}
