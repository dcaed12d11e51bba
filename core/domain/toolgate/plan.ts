/**
 * The execution plan: which tool calls the planner authorises for one envelope of
 * one session. Signed by the planner (payload type
 * `application/vnd.saoe.plan.v1+json`); only a plan whose issuer is `planner` and
 * whose signature verifies with the planner's current keys is accepted.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES, type TrustedKeySet } from "../../primitives/dsse/types.ts";
import { verifyStatement } from "../../primitives/dsse/verify.ts";
import { anyObject, arr, type Decoded, obj, str } from "../../primitives/json/decode.ts";
import { agentId, sessionId, TOOL_NAME_RE, uuid } from "../../primitives/ids/patterns.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp, timestamp } from "../../primitives/time/timestamp.ts";

/** The only agent whose plans ToolGate accepts. */
export const PLAN_ISSUER = "planner";
/** Largest signed plan accepted, in bytes (checked before parsing). */
export const MAX_PLAN_BYTES = 256 * 1024;
/** Most calls one plan may carry. */
export const MAX_PLAN_CALLS = 32;
/** A call id: lowercase letters, digits, `_` and `-`, 64 at most. */
export const CALL_ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const call = obj({
  id: str({ pattern: CALL_ID_RE, maxLength: 64, code: "bad_identifier", what: "a call id" }),
  tool: str({ pattern: TOOL_NAME_RE, maxLength: 64, code: "bad_identifier", what: "a tool name" }),
  args: anyObject,
});

/** One authorised tool call. */
export type PlanCall = Decoded<typeof call>;

const planShape = obj({
  plan_id: uuid,
  session_id: sessionId,
  envelope_id: uuid,
  issuer: agentId,
  issued_at: timestamp,
  expires_at: timestamp,
  calls: arr(call, MAX_PLAN_CALLS),
});

/** A signed execution plan's payload. */
export type Plan = Decoded<typeof planShape>;

/** Strict plan decoder: at least one call, call ids unique. */
export function decodePlan(value: unknown, path: string): Plan {
  const plan = planShape(value, path);
  if (plan.calls.length === 0) {
    throw new SaoeError("parse_error", `Invalid plan ${plan.plan_id}: it has no calls`);
  }
  const ids = new Set<string>();
  for (const c of plan.calls) {
    if (ids.has(c.id)) {
      throw new SaoeError(
        "parse_error",
        `Invalid plan ${plan.plan_id}: call id ${c.id} is used twice`,
      );
    }
    ids.add(c.id);
  }
  return plan;
}

/** Options for {@linkcode signPlan}. */
export interface SignPlanOptions {
  plan: Omit<Plan, "issued_at" | "expires_at">;
  /** The planner's signing key(s). */
  signers: readonly SigningKey[];
  /** Issue time in epoch milliseconds. */
  issuedAt: number;
  /** Validity in milliseconds from `issuedAt`; must be positive. */
  validForMs: number;
}

/**
 * Signs an execution plan (as the planner).
 *
 * @example
 * ```ts
 * import { signPlan } from "./plan.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const planner = await SigningKey.fromSeed(generateSeed());
 * const bytes = await signPlan({
 *   plan: {
 *     plan_id: crypto.randomUUID(), session_id: crypto.randomUUID(),
 *     envelope_id: crypto.randomUUID(), issuer: "planner",
 *     calls: [{ id: "c1", tool: "markdown_to_html", args: {} }],
 *   },
 *   signers: [planner], issuedAt: Date.now(), validForMs: 60_000,
 * });
 * if (bytes.byteLength === 0) throw new Error();
 * ```
 */
export async function signPlan(options: SignPlanOptions): Promise<Uint8Array<ArrayBuffer>> {
  const { issuedAt, validForMs } = options;
  if (!Number.isSafeInteger(issuedAt) || !Number.isSafeInteger(validForMs) || validForMs <= 0) {
    throw new RangeError(
      `Cannot sign plan: issuedAt ${issuedAt} and validForMs ${validForMs} must be integers, validForMs positive`,
    );
  }
  if (options.signers.length === 0) throw new RangeError("Cannot sign plan: no signer was given");
  const payload = decodePlan({
    ...options.plan,
    issued_at: formatTimestamp(issuedAt),
    expires_at: formatTimestamp(issuedAt + validForMs),
  }, "$");
  return await signStatement({
    payloadType: PAYLOAD_TYPES.plan,
    payload,
    signers: options.signers,
  });
}

/** Options for {@linkcode verifyPlan}. */
export interface VerifyPlanOptions {
  /** The planner's current public keys (from the agent key directory). */
  planner: TrustedKeySet;
  clock: Clock;
  /** Allowed clock skew in milliseconds. */
  skewMs: number;
}

/**
 * Verifies a signed plan: payload type (`wrong_payload_type`), the planner's
 * signature (`bad_signature`), strict payload (`parse_error`, `bad_identifier`),
 * freshness (`expired`) and issuer `planner` (`sender_not_allowed`).
 *
 * @example
 * ```ts
 * import { signPlan, verifyPlan } from "./plan.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const planner = await SigningKey.fromSeed(generateSeed());
 * const now = Date.now();
 * const bytes = await signPlan({
 *   plan: {
 *     plan_id: crypto.randomUUID(), session_id: crypto.randomUUID(),
 *     envelope_id: crypto.randomUUID(), issuer: "planner",
 *     calls: [{ id: "c1", tool: "markdown_to_html", args: {} }],
 *   },
 *   signers: [planner], issuedAt: now, validForMs: 60_000,
 * });
 * const plan = await verifyPlan(bytes, {
 *   planner: { name: "planner", keys: [planner], threshold: 1 },
 *   clock: { now: () => now },
 *   skewMs: 0,
 * });
 * if (plan.calls.length !== 1) throw new Error();
 * ```
 */
export async function verifyPlan(bytes: Uint8Array, options: VerifyPlanOptions): Promise<Plan> {
  const verified = await verifyStatement(bytes, {
    payloadType: PAYLOAD_TYPES.plan,
    trusted: [options.planner],
    signatureCode: "bad_signature",
    what: "execution plan",
    decode: decodePlan,
    clock: options.clock,
    skewMs: options.skewMs,
    maxBytes: MAX_PLAN_BYTES,
  });
  const plan = verified.payload;
  // the keys verify only the planner; an issuer field naming anyone else is a forgery or a mix-up
  if (plan.issuer !== PLAN_ISSUER) {
    throw new SaoeError(
      "sender_not_allowed",
      `Cannot accept execution plan ${plan.plan_id}: issuer ${
        JSON.stringify(plan.issuer)
      } is not ${PLAN_ISSUER}`,
      { session_id: plan.session_id, envelope_id: plan.envelope_id, sender: plan.issuer },
    );
  }
  return plan;
}
