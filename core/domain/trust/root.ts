/**
 * The trust root payload (docs/design.md section 2): the dispatcher's public keys, how
 * many distinct keys must sign (k of n), a version and a validity window.
 *
 * The decoder refuses unknown fields, a threshold of 0, and a threshold above the
 * number of DISTINCT public keys: listing one key under two key ids must not let
 * one holder meet a 2-of-n threshold alone. Verification of a chain of roots
 * lives in `chain.ts`; this module only decodes, signs and exposes the key set.
 *
 * @module
 */
import { toHex } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES, type TrustedKeySet } from "../../primitives/dsse/types.ts";
import { SaoeError } from "../../primitives/errors.ts";
import { MAX_VERSION } from "../../primitives/ids/patterns.ts";
import { arr, DecodeError, int, obj } from "../../primitives/json/decode.ts";
import { parseTimestamp, timestamp } from "../../primitives/time/timestamp.ts";
import { keyIdLabel, publicKeyB64, publicKeyBytes, toPublicKeyEntry } from "./_keys.ts";

/** Most keys a root may list (bounds verification work). */
export const MAX_ROOT_KEYS = 32;

/** Largest root file in bytes. */
export const ROOT_MAX_BYTES = 1024 * 1024;

/** One dispatcher key of a root: a label and the raw key as canonical base64. */
export interface RootKey {
  keyid: string;
  public_key: string;
}

/** The payload of a trust root statement (`application/vnd.saoe.root.v1+json`). */
export interface RootPayload {
  version: number;
  issued_at: string;
  expires_at: string;
  threshold: number;
  keys: RootKey[];
}

const rootShape = obj({
  version: int(1, MAX_VERSION),
  issued_at: timestamp,
  expires_at: timestamp,
  threshold: int(0, MAX_ROOT_KEYS),
  keys: arr(obj({ keyid: keyIdLabel, public_key: publicKeyB64 }), MAX_ROOT_KEYS),
});

/**
 * Decodes a root payload: exact fields, distinct key ids, `expires_at` after
 * `issued_at`, and `1 <= threshold <= distinct public keys` (else `bad_threshold`).
 *
 * @example
 * ```ts
 * import { decodeRootPayload } from "./root.ts";
 * const root = decodeRootPayload({
 *   version: 1,
 *   issued_at: "2026-01-01T00:00:00Z",
 *   expires_at: "2027-01-01T00:00:00Z",
 *   threshold: 1,
 *   keys: [{ keyid: "k1", public_key: new Uint8Array(32).fill(7).toBase64() }],
 * }, "$");
 * if (root.threshold !== 1) throw new Error();
 * ```
 */
export function decodeRootPayload(value: unknown, path: string): RootPayload {
  const root = rootShape(value, path);
  const issued = parseTimestamp(root.issued_at)!;
  const expires = parseTimestamp(root.expires_at)!;
  if (expires <= issued) throw new DecodeError(`${path}.expires_at`, "a time after issued_at");
  const keyids = new Set<string>();
  const distinct = new Set<string>();
  root.keys.forEach((key, i) => {
    if (keyids.has(key.keyid)) {
      throw new DecodeError(`${path}.keys[${i}].keyid`, "a key id not already listed");
    }
    keyids.add(key.keyid);
    distinct.add(toHex(publicKeyBytes(key.public_key, `${path}.keys[${i}].public_key`)));
  });
  if (root.threshold < 1 || root.threshold > distinct.size) {
    throw new SaoeError(
      "bad_threshold",
      `Invalid trust root version ${root.version}: threshold ${root.threshold} must be from 1 to the ${distinct.size} distinct public keys it lists`,
    );
  }
  return root;
}

/**
 * The dispatcher key set a root defines, in the form the DSSE verifier takes.
 *
 * @example
 * ```ts
 * import { rootKeySet } from "./root.ts";
 * const set = rootKeySet({
 *   version: 2,
 *   issued_at: "2026-01-01T00:00:00Z",
 *   expires_at: "2027-01-01T00:00:00Z",
 *   threshold: 1,
 *   keys: [{ keyid: "k1", public_key: new Uint8Array(32).fill(7).toBase64() }],
 * });
 * if (set.name !== "dispatcher root v2" || set.keys.length !== 1) throw new Error();
 * ```
 */
export function rootKeySet(root: RootPayload): TrustedKeySet {
  return {
    name: `dispatcher root v${root.version}`,
    keys: root.keys.map(toPublicKeyEntry),
    threshold: root.threshold,
  };
}

/** The root key entry for a signing key, labelled with its hex SHA-256 key id. */
export function rootKeyOf(key: SigningKey): RootKey {
  return { keyid: key.keyid, public_key: key.publicKey.toBase64() };
}

/** Options for {@linkcode signRoot}. */
export interface SignRootOptions {
  payload: RootPayload;
  /** The keys that sign: for root N+1, a threshold of root N's keys and of its own. */
  signers: readonly SigningKey[];
}

/**
 * Signs a root payload (checked with {@linkcode decodeRootPayload} first, so a
 * ceremony cannot produce a root every verifier would refuse). Returns the file bytes.
 *
 * @example
 * ```ts
 * import { rootKeyOf, signRoot } from "./root.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const key = await SigningKey.fromSeed(generateSeed());
 * const bytes = await signRoot({
 *   payload: {
 *     version: 1,
 *     issued_at: "2026-01-01T00:00:00Z",
 *     expires_at: "2027-01-01T00:00:00Z",
 *     threshold: 1,
 *     keys: [rootKeyOf(key)],
 *   },
 *   signers: [key],
 * });
 * if (bytes.byteLength === 0) throw new Error();
 * ```
 */
export function signRoot(options: SignRootOptions): Promise<Uint8Array<ArrayBuffer>> {
  const payload = decodeRootPayload(options.payload, "$");
  return signStatement({
    payloadType: PAYLOAD_TYPES.root,
    payload: { ...payload },
    signers: options.signers,
  });
}
