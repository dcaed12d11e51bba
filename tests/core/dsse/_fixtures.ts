/**
 * Fixtures for the DSSE tests: deterministic keys, a small statement kind with a
 * validity window, verify options over a fake clock, and a helper that edits the
 * JSON wrapper of a signed statement (to tamper with it the way an attacker would).
 *
 * @module
 */
import { SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import type { PublicKeyEntry, TrustedKeySet } from "../../../core/primitives/dsse/types.ts";
import type { VerifyStatementOptions } from "../../../core/primitives/dsse/verify.ts";
import { type Decoder, int, obj } from "../../../core/primitives/json/decode.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import { formatTimestamp, timestamp } from "../../../core/primitives/time/timestamp.ts";

/** The fixed "now" of the DSSE tests. */
export const T0: number = Date.parse("2026-03-01T12:00:00Z");
/** The payload type the tests sign. */
export const TEST_TYPE = "application/vnd.saoe.test.v1+json";
/** Clock skew the tests allow. */
export const SKEW_MS = 120_000;
/** Lifetime of a test statement. */
export const TTL_MS = 60_000;

/** The payload of a test statement. */
export interface TestStatement {
  n: number;
  issued_at: string;
  expires_at: string;
}

/** Decoder of {@linkcode TestStatement}. */
export const decodeTestStatement: Decoder<TestStatement> = obj({
  n: int(),
  issued_at: timestamp,
  expires_at: timestamp,
});

/** A payload issued at `issuedAt` that expires `TTL_MS` later. */
export function statement(n: number, issuedAt: number = T0): TestStatement {
  return {
    n,
    issued_at: formatTimestamp(issuedAt),
    expires_at: formatTimestamp(issuedAt + TTL_MS),
  };
}

/** A signing key from a seed of 32 copies of `byte`. */
export function keyFrom(byte: number): Promise<SigningKey> {
  return SigningKey.fromSeed(new Uint8Array(32).fill(byte));
}

/** The public half of `key`, optionally listed under another key id. */
export function entry(key: SigningKey, keyid: string = key.keyid): PublicKeyEntry {
  return { keyid, publicKey: key.publicKey };
}

/** A trusted set of `keys` needing `threshold` of them. */
export function trustedSet(name: string, keys: PublicKeyEntry[], threshold: number): TrustedKeySet {
  return { name, keys, threshold };
}

/** Verify options for test statements at fake time `now`. */
export function verifyOptions(
  trusted: TrustedKeySet[],
  now: number = T0,
): VerifyStatementOptions<TestStatement> {
  return {
    payloadType: TEST_TYPE,
    trusted,
    signatureCode: "capset_signature",
    what: "test statement",
    decode: decodeTestStatement,
    clock: new FakeClock(now),
    skewMs: SKEW_MS,
    maxBytes: 64 * 1024,
  };
}

/** The DSSE wrapper as plain JSON, for tampering. */
export interface RawWrapper {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
  [extra: string]: unknown;
}

/** Parses a signed statement's wrapper, lets `edit` change it and serialises it again. */
export function editWrapper(bytes: Uint8Array, edit: (wrapper: RawWrapper) => void): Uint8Array {
  const wrapper = JSON.parse(new TextDecoder().decode(bytes)) as RawWrapper;
  edit(wrapper);
  return new TextEncoder().encode(JSON.stringify(wrapper));
}

/** The wrapper of a signed statement as plain JSON. */
export function readWrapper(bytes: Uint8Array): RawWrapper {
  return JSON.parse(new TextDecoder().decode(bytes)) as RawWrapper;
}
