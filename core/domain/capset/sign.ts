/**
 * Signing of capability sets: the dispatcher turns a capset source reviewed in git
 * into a DSSE statement of type `application/vnd.saoe.capset.v1+json` with a
 * validity window. The source is decoded strictly before it is signed, so a field
 * the verifier would refuse is never signed in the first place.
 *
 * @module
 */
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { type Capset, type CapsetSource, decodeCapset, decodeCapsetSource } from "./types.ts";

/** Options for {@linkcode signCapset}. */
export interface SignCapsetOptions {
  /** The capability set as reviewed in git (no validity window). */
  source: CapsetSource;
  /** Dispatcher keys; a threshold of the trust root's keys must sign. */
  signers: readonly SigningKey[];
  /** Issue time in epoch milliseconds. */
  issuedAt: number;
  /** Validity in milliseconds from `issuedAt`; must be positive. */
  validForMs: number;
}

/**
 * Signs a capability set source as a dispatcher-signed DSSE statement.
 *
 * @example
 * ```ts
 * import { signCapset } from "./sign.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const dispatcher = await SigningKey.fromSeed(generateSeed());
 * const bytes = await signCapset({
 *   source: {
 *     agent: "planner", version: 1, receives: [], sends: [], tools: [], vault: [],
 *     fs: { read: [], write: [] }, net: [],
 *     limits: { max_envelope_bytes: 65536, quota_per_minute: 60, max_inbox_depth: 100, max_quarantine: 100 },
 *   },
 *   signers: [dispatcher],
 *   issuedAt: Date.now(),
 *   validForMs: 86_400_000,
 * });
 * if (bytes.byteLength === 0) throw new Error("unexpected");
 * ```
 */
export async function signCapset(options: SignCapsetOptions): Promise<Uint8Array<ArrayBuffer>> {
  const { issuedAt, validForMs } = options;
  if (!Number.isSafeInteger(issuedAt) || !Number.isSafeInteger(validForMs) || validForMs <= 0) {
    throw new RangeError(
      `Cannot sign capability set: issuedAt ${issuedAt} and validForMs ${validForMs} must be integers, validForMs positive`,
    );
  }
  if (options.signers.length === 0) {
    throw new RangeError("Cannot sign capability set: no signer was given");
  }
  // decode the source first: a cast or a JavaScript caller cannot smuggle a field into the signature
  const source = decodeCapsetSource(options.source, "$");
  const payload: Capset = decodeCapset({
    ...source,
    issued_at: formatTimestamp(issuedAt),
    expires_at: formatTimestamp(issuedAt + validForMs),
  }, "$");
  return await signStatement({
    payloadType: PAYLOAD_TYPES.capset,
    payload,
    signers: options.signers,
  });
}
