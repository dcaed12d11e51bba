/**
 * Signed ledger checkpoints: `{tree_size, head_hash, issued_at, expires_at,
 * ledger_id}` as a DSSE statement of type `application/vnd.saoe.checkpoint.v1+json`,
 * signed by the ledger writer's checkpoint key. A checkpoint commits to the whole
 * chain up to `tree_size`: an attacker who edits a record and re-computes every
 * later hash still cannot produce a head that matches it without the key.
 *
 * Expiry: a checkpoint attests to history, which does not go stale, so it is issued
 * valid for {@linkcode CHECKPOINT_VALIDITY_MS} (100 years). The field exists because
 * every signed statement carries one; a compromised key is handled by removing it
 * from the trusted set, not by expiry.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { toHex } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES, type TrustedKeySet } from "../../primitives/dsse/types.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { verifyStatement } from "../../primitives/dsse/verify.ts";
import { type Decoder, int, obj } from "../../primitives/json/decode.ts";
import { sha256HexId, uuid } from "../../primitives/ids/patterns.ts";
import { type Clock, DEFAULT_SKEW_MS } from "../../primitives/time/clock.ts";
import { formatTimestamp, timestamp } from "../../primitives/time/timestamp.ts";

/** How long a checkpoint statement is valid: 100 years. */
export const CHECKPOINT_VALIDITY_MS = 100 * 365 * 24 * 3600 * 1000;

/** Largest checkpoint statement accepted, in bytes. */
export const MAX_CHECKPOINT_BYTES = 8 * 1024;

/** The signed content of a checkpoint. */
export interface CheckpointPayload {
  /** Number of records covered (records 1 to `tree_size`). */
  tree_size: number;
  /** Lowercase hex chain hash of record `tree_size`. */
  head_hash: string;
  issued_at: string;
  expires_at: string;
  /** The ledger this checkpoint belongs to (random UUID fixed at creation). */
  ledger_id: string;
}

/** Strict decoder of a checkpoint payload. */
export const checkpointPayload: Decoder<CheckpointPayload> = obj({
  tree_size: int(1),
  head_hash: sha256HexId,
  issued_at: timestamp,
  expires_at: timestamp,
  ledger_id: uuid,
});

/** Options for {@linkcode signCheckpoint}. */
export interface SignCheckpointOptions {
  treeSize: number;
  headHash: Uint8Array;
  ledgerId: string;
  key: SigningKey;
  clock: Clock;
}

/**
 * Signs a checkpoint and returns the DSSE statement bytes.
 *
 * @example
 * ```ts
 * import { signCheckpoint, verifyCheckpoint } from "./checkpoint.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const key = await SigningKey.fromSeed(generateSeed());
 * const clock = { now: () => Date.now() };
 * const bytes = await signCheckpoint({
 *   treeSize: 1,
 *   headHash: new Uint8Array(32),
 *   ledgerId: crypto.randomUUID(),
 *   key,
 *   clock,
 * });
 * const keys = { name: "checkpoint key", keys: [key], threshold: 1 };
 * if ((await verifyCheckpoint(bytes, { keys, clock })).tree_size !== 1) throw new Error();
 * ```
 */
export function signCheckpoint(options: SignCheckpointOptions): Promise<Uint8Array<ArrayBuffer>> {
  const now = options.clock.now();
  const payload: CheckpointPayload = {
    tree_size: options.treeSize,
    head_hash: toHex(options.headHash),
    issued_at: formatTimestamp(now),
    expires_at: formatTimestamp(now + CHECKPOINT_VALIDITY_MS),
    ledger_id: options.ledgerId,
  };
  checkpointPayload(payload, "$");
  return signStatement({
    payloadType: PAYLOAD_TYPES.checkpoint,
    payload: { ...payload },
    signers: [options.key],
  });
}

/** Options for {@linkcode verifyCheckpoint}. */
export interface VerifyCheckpointOptions {
  /** The checkpoint keys trusted for this ledger. */
  keys: TrustedKeySet;
  clock: Clock;
}

/**
 * Verifies a checkpoint statement (signature first, then strict payload and
 * validity) and returns its payload; throws a {@linkcode SaoeError} otherwise.
 */
export async function verifyCheckpoint(
  bytes: Uint8Array,
  options: VerifyCheckpointOptions,
): Promise<CheckpointPayload> {
  const verified = await verifyStatement(bytes, {
    payloadType: PAYLOAD_TYPES.checkpoint,
    trusted: [options.keys],
    signatureCode: "ledger_broken",
    what: "ledger checkpoint",
    decode: checkpointPayload,
    clock: options.clock,
    skewMs: DEFAULT_SKEW_MS,
    maxBytes: MAX_CHECKPOINT_BYTES,
  });
  return verified.payload;
}

/** Reads an anchor file; `undefined` when it does not exist. */
export async function readAnchor(path: string): Promise<Uint8Array | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new SaoeError("io_error", `Cannot read checkpoint anchor ${path}`, {}, { cause: err });
  }
  if (!info.isFile) {
    throw new SaoeError("unsafe_path", `Cannot read checkpoint anchor ${path}: not a regular file`);
  }
  if (info.size > MAX_CHECKPOINT_BYTES) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot read checkpoint anchor ${path}: ${info.size} bytes exceeds ${MAX_CHECKPOINT_BYTES}`,
    );
  }
  return await Deno.readFile(path);
}
