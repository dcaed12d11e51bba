/**
 * The one signature verification for every signed statement (envelope, plan,
 * capability set, template and tool manifest, trust root, key directory,
 * checkpoint, audit event).
 *
 * Order, always: parse the DSSE wrapper strictly, check the payload type, verify
 * signatures over the PAE of the exact payload bytes against the trusted key
 * sets, and only then parse the payload strictly, decode it and check freshness.
 * `keyid` is a hint for which key to try first; every trusted key is tried, and a
 * key listed twice (under two keyids) counts once toward a threshold.
 *
 * @module
 */
import { type ReasonCode, SaoeError } from "../errors.ts";
import { toHex } from "../crypto/bytes.ts";
import { verifyEd25519 } from "../crypto/ed25519.ts";
import type { Decoder } from "../json/decode.ts";
import { type JsonObject, parseStrictJson } from "../json/strict_parse.ts";
import type { Clock } from "../time/clock.ts";
import { checkValidity, type Validity } from "../time/timestamp.ts";
import { pae } from "./pae.ts";
import { parseDsse } from "./parse.ts";
import type { DsseEnvelope, PublicKeyEntry, TrustedKeySet } from "./types.ts";

/** Options for {@linkcode verifySignatures}. */
export interface SignatureCheck {
  /** Every set must be satisfied (a rotated root needs the old set and its own). */
  trusted: readonly TrustedKeySet[];
  /** Reason code when a threshold is not met (e.g. `bad_signature`, `capset_signature`). */
  signatureCode: ReasonCode;
  /** What is being verified, for messages. */
  what: string;
}

function distinctKeys(keys: readonly PublicKeyEntry[]): Map<string, PublicKeyEntry> {
  const byKey = new Map<string, PublicKeyEntry>();
  for (const k of keys) {
    const hex = toHex(k.publicKey);
    if (!byKey.has(hex)) byKey.set(hex, k);
  }
  return byKey;
}

/**
 * Verifies that each trusted set's threshold of distinct keys signed the PAE of
 * the envelope's exact payload. Returns the hex public keys that verified.
 */
export async function verifySignatures(
  env: DsseEnvelope,
  check: SignatureCheck,
): Promise<Set<string>> {
  // no trusted set would mean no signature is required: fail closed
  if (check.trusted.length === 0) {
    throw new SaoeError(
      "bad_threshold",
      `Cannot verify ${check.what}: no trusted key set was given`,
    );
  }
  const message = pae(env.payloadType, env.payload);
  const all: PublicKeyEntry[] = check.trusted.flatMap((set) => [...set.keys]);
  const candidates = distinctKeys(all);
  const verified = new Set<string>();
  for (const signature of env.signatures) {
    const ordered = [...candidates.entries()].sort(([, a], [, b]) =>
      Number(b.keyid === signature.keyid) - Number(a.keyid === signature.keyid)
    );
    for (const [hex, key] of ordered) {
      if (verified.has(hex)) continue;
      if (await verifyEd25519(key.publicKey, message, signature.sig)) {
        verified.add(hex);
        break;
      }
    }
  }
  for (const set of check.trusted) {
    const keys = distinctKeys(set.keys);
    if (!Number.isSafeInteger(set.threshold) || set.threshold < 1 || set.threshold > keys.size) {
      throw new SaoeError(
        "bad_threshold",
        `Cannot verify ${check.what}: ${set.name} has threshold ${set.threshold} for ${keys.size} distinct keys`,
      );
    }
    let count = 0;
    for (const hex of keys.keys()) if (verified.has(hex)) count++;
    if (count < set.threshold) {
      throw new SaoeError(
        check.signatureCode,
        `Cannot accept ${check.what}: ${count} of the required ${set.threshold} signatures by ${set.name} verify`,
      );
    }
  }
  return verified;
}

/** Options for {@linkcode verifyStatement}. */
export interface VerifyStatementOptions<T extends Validity> extends SignatureCheck {
  payloadType: string;
  decode: Decoder<T>;
  clock: Clock;
  skewMs: number;
  /** Size cap of the whole DSSE document, checked before parsing. */
  maxBytes: number;
}

/** A statement whose signatures, shape and freshness have been verified. */
export interface VerifiedStatement<T> {
  payload: T;
  /** The exact signed payload bytes. */
  payloadBytes: Uint8Array<ArrayBuffer>;
  /** Hex public keys whose signatures verified. */
  signers: Set<string>;
}

/** Checks that a parsed DSSE envelope has the expected payload type. */
export function expectPayloadType(env: DsseEnvelope, payloadType: string, what: string): void {
  if (env.payloadType !== payloadType) {
    throw new SaoeError(
      "wrong_payload_type",
      `Cannot accept ${what}: payload type ${
        JSON.stringify(env.payloadType.slice(0, 80))
      } is not ${payloadType}`,
    );
  }
}

/** Parses signed payload bytes strictly (after their signature verified). */
export function parsePayload(env: DsseEnvelope, maxBytes: number): JsonObject {
  return parseStrictJson(env.payload, { maxBytes });
}

/**
 * Verifies a signed statement end to end and returns its decoded payload.
 *
 * @example
 * ```ts
 * import { verifyStatement } from "./verify.ts";
 * import { signStatement } from "./sign.ts";
 * import { generateSeed, SigningKey } from "../crypto/ed25519.ts";
 * import { int, obj } from "../json/decode.ts";
 * import { timestamp } from "../time/timestamp.ts";
 * const key = await SigningKey.fromSeed(generateSeed());
 * const now = Date.now();
 * const payload = {
 *   n: 1,
 *   issued_at: new Date(now).toISOString(),
 *   expires_at: new Date(now + 60_000).toISOString(),
 * };
 * const bytes = await signStatement({ payloadType: "t", payload, signers: [key] });
 * const ok = await verifyStatement(bytes, {
 *   payloadType: "t",
 *   trusted: [{ name: "example", keys: [key], threshold: 1 }],
 *   signatureCode: "bad_signature",
 *   what: "example",
 *   decode: obj({ n: int(), issued_at: timestamp, expires_at: timestamp }),
 *   clock: { now: () => now },
 *   skewMs: 0,
 *   maxBytes: 4096,
 * });
 * if (ok.payload.n !== 1) throw new Error();
 * ```
 */
export async function verifyStatement<T extends Validity>(
  input: Uint8Array | DsseEnvelope,
  options: VerifyStatementOptions<T>,
): Promise<VerifiedStatement<T>> {
  const env = input instanceof Uint8Array ? parseDsse(input, options.maxBytes) : input;
  expectPayloadType(env, options.payloadType, options.what);
  const signers = await verifySignatures(env, options);
  const payload = options.decode(parsePayload(env, options.maxBytes), "$");
  checkValidity(payload, { clock: options.clock, skewMs: options.skewMs, what: options.what });
  return { payload, payloadBytes: env.payload, signers };
}
