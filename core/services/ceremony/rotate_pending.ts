/**
 * A pending trust root: root N+1 as a DSSE statement that is still collecting
 * signatures (k-of-n ceremonies where the key holders are not on one host). It
 * lives in a file the operator names, outside `trust/`, and is installed only by
 * `saoe keys rotate dispatcher --commit FILE` once a threshold of root N's keys
 * AND a threshold of its own keys signed (the same rule the chain walker applies).
 *
 * {@linkcode describePendingRoot} is a report for people: it reads the pending
 * payload to learn its keys and checks each signature against each key of both
 * roots. It decides nothing; installing goes through `verifyRootChain`.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { toHex } from "../../primitives/crypto/bytes.ts";
import { type SigningKey, verifyEd25519 } from "../../primitives/crypto/ed25519.ts";
import { addSignatures } from "../../primitives/dsse/sign.ts";
import { pae } from "../../primitives/dsse/pae.ts";
import { parseDsse } from "../../primitives/dsse/parse.ts";
import { PAYLOAD_TYPES, type PublicKeyEntry } from "../../primitives/dsse/types.ts";
import { expectPayloadType, parsePayload } from "../../primitives/dsse/verify.ts";
import type { DsseEnvelope } from "../../primitives/dsse/types.ts";
import { decodeRootPayload, ROOT_MAX_BYTES, type RootPayload } from "../../domain/trust/root.ts";
import { toPublicKeyEntry } from "../../domain/trust/_keys.ts";
import type { VerifiedRoot } from "../../domain/trust/chain.ts";

/** One key of a root and whether it signed the pending root. */
export interface PendingKey {
  keyid: string;
  signed: boolean;
}

/** One side of the rule: the keys of a root, its threshold, and whether it is met. */
export interface PendingSide {
  version: number;
  threshold: number;
  keys: PendingKey[];
  signed: number;
  met: boolean;
}

/** What a pending root needs before it can be committed. */
export interface PendingRootStatus {
  version: number;
  issued_at: string;
  expires_at: string;
  /** Root N: a threshold of its keys must sign. */
  current: PendingSide;
  /** Root N+1 itself: a threshold of its own keys must sign. */
  next: PendingSide;
  /** Both thresholds are met. */
  ready: boolean;
}

/** Parses a pending root file (a DSSE root statement). */
export function parsePendingRoot(bytes: Uint8Array): { env: DsseEnvelope; payload: RootPayload } {
  const env = parseDsse(bytes, ROOT_MAX_BYTES);
  expectPayloadType(env, PAYLOAD_TYPES.root, "pending trust root");
  return { env, payload: decodeRootPayload(parsePayload(env, ROOT_MAX_BYTES), "$") };
}

async function signedBy(env: DsseEnvelope, key: PublicKeyEntry): Promise<boolean> {
  const message = pae(env.payloadType, env.payload);
  for (const signature of env.signatures) {
    if (await verifyEd25519(key.publicKey, message, signature.sig)) return true;
  }
  return false;
}

async function side(
  env: DsseEnvelope,
  root: { version: number; threshold: number; keys: readonly PublicKeyEntry[] },
): Promise<PendingSide> {
  const keys: PendingKey[] = [];
  const seen = new Set<string>();
  for (const key of root.keys) {
    const hex = toHex(key.publicKey);
    // one key listed twice counts once
    const signed = !seen.has(hex) && await signedBy(env, key);
    seen.add(hex);
    keys.push({ keyid: key.keyid, signed });
  }
  const count = keys.filter((k) => k.signed).length;
  return {
    version: root.version,
    threshold: root.threshold,
    keys,
    signed: count,
    met: count >= root.threshold,
  };
}

/**
 * Reports which keys of root N and of the pending root N+1 signed it.
 *
 * @example
 * ```ts ignore
 * const status = await describePendingRoot(ch.root, await Deno.readFile("root.pending.json"));
 * console.log(status.ready);
 * ```
 */
export async function describePendingRoot(
  current: VerifiedRoot,
  bytes: Uint8Array,
): Promise<PendingRootStatus> {
  const { env, payload } = parsePendingRoot(bytes);
  if (payload.version !== current.version + 1) {
    throw new SaoeError(
      "root_signature",
      `Cannot use the pending trust root: it is version ${payload.version}, but root v${current.version} is in force (expected v${
        current.version + 1
      })`,
    );
  }
  const currentSide = await side(env, current);
  const nextSide = await side(env, {
    version: payload.version,
    threshold: payload.threshold,
    keys: payload.keys.map(toPublicKeyEntry),
  });
  return {
    version: payload.version,
    issued_at: payload.issued_at,
    expires_at: payload.expires_at,
    current: currentSide,
    next: nextSide,
    ready: currentSide.met && nextSide.met,
  };
}

/**
 * Adds `signer`'s signature to a pending root. Refuses (`root_signature`) a key
 * that belongs to neither root N nor root N+1, and a key that already signed.
 */
export async function signPendingRoot(
  current: VerifiedRoot,
  bytes: Uint8Array,
  signer: SigningKey,
): Promise<Uint8Array<ArrayBuffer>> {
  const { env, payload } = parsePendingRoot(bytes);
  await describePendingRoot(current, bytes);
  const entry: PublicKeyEntry = { keyid: signer.keyid, publicKey: signer.publicKey };
  const hex = toHex(signer.publicKey);
  const member = [...current.keys, ...payload.keys.map(toPublicKeyEntry)].some((k) =>
    toHex(k.publicKey) === hex
  );
  if (!member) {
    throw new SaoeError(
      "root_signature",
      `Cannot sign the pending trust root v${payload.version} with key ${signer.keyid}: it is a key of neither root v${current.version} nor root v${payload.version}`,
    );
  }
  if (await signedBy(env, entry)) {
    throw new SaoeError(
      "root_signature",
      `Cannot sign the pending trust root v${payload.version} with key ${signer.keyid}: it has already signed`,
    );
  }
  return await addSignatures(env, [signer]);
}
