/**
 * Fixtures for the trust tests: real Ed25519 keys, root payloads, raw signing
 * (to build statements the checked signers would refuse to produce) and a
 * reason-code assertion.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { signStatement } from "../../../core/primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { isSaoeError, type ReasonCode } from "../../../core/primitives/errors.ts";
import { formatTimestamp } from "../../../core/primitives/time/timestamp.ts";
import { rootKeyOf, type RootPayload } from "../../../core/domain/trust/root.ts";

/** Start of every fixture's validity: 2026-01-01T00:00:00Z. */
export const T0: number = Date.parse("2026-01-01T00:00:00Z");
/** One day in milliseconds. */
export const DAY = 86_400_000;

/** `n` fresh signing keys. */
export async function makeKeys(n: number): Promise<SigningKey[]> {
  const keys: SigningKey[] = [];
  for (let i = 0; i < n; i++) keys.push(await SigningKey.fromSeed(generateSeed()));
  return keys;
}

/** Options for {@linkcode rootPayload}. */
export interface RootFixture {
  version: number;
  keys: readonly SigningKey[];
  threshold: number;
  issuedAtMs?: number;
  expiresAtMs?: number;
}

/** A root payload valid from T0 for a year unless told otherwise. */
export function rootPayload(fixture: RootFixture): RootPayload {
  return {
    version: fixture.version,
    issued_at: formatTimestamp(fixture.issuedAtMs ?? T0),
    expires_at: formatTimestamp(fixture.expiresAtMs ?? T0 + 365 * DAY),
    threshold: fixture.threshold,
    keys: fixture.keys.map(rootKeyOf),
  };
}

/** Signs any payload without checking it (for statements a verifier must refuse). */
export function signRaw(
  payload: Record<string, unknown>,
  signers: readonly SigningKey[],
  payloadType: string = PAYLOAD_TYPES.root,
): Promise<Uint8Array<ArrayBuffer>> {
  return signStatement({ payloadType, payload, signers });
}

/** Rewrites the `keyid` hint of signature `index` of a DSSE document. */
export function relabel(bytes: Uint8Array, index: number, keyid: string): Uint8Array {
  const doc = JSON.parse(new TextDecoder().decode(bytes));
  doc.signatures[index].keyid = keyid;
  return new TextEncoder().encode(JSON.stringify(doc));
}

/** Asserts that `run` rejects (or throws) a SaoeError with `code`. */
export async function assertRefused(
  run: () => Promise<unknown> | unknown,
  code: ReasonCode,
): Promise<void> {
  let caught: unknown;
  try {
    await run();
  } catch (err: unknown) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected a refusal with code ${code}, but nothing was thrown`);
  assert.ok(
    isSaoeError(caught, code),
    `expected code ${code}, got ${isSaoeError(caught) ? caught.code : String(caught)}`,
  );
}
