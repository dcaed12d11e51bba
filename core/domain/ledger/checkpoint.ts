/**
 * Ledger checkpoints as C2SP `tlog-checkpoint` signed notes: the origin line
 * naming this home's log, the number of records, and the RFC 6962 Merkle root of
 * their exact bytes, signed by the ledger writer's checkpoint key (the
 * supervisor's) under the origin as key name; witnesses add `cosignature/v1`
 * lines.
 *
 * A log-signed checkpoint alone proves little against someone who can write the
 * home (its key is kept there); what they cannot forge is a witness's
 * cosignature, and a witness cosigns only a tree that extends the last one it
 * cosigned. {@linkcode verifyWitnessedCheckpoint} is the check every verifier of
 * the ledger's completeness relies on.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import {
  ed25519Verifier,
  formatNote,
  parseNote,
  type SignedNote,
  signNoteEd25519,
  type Verifier,
  verifyNote,
} from "../../primitives/note/note.ts";
import { formatCheckpoint, parseCheckpoint } from "../../primitives/note/checkpoint.ts";
import { cosignatureTimestamp, cosignatureVerifier } from "../../primitives/note/cosignature.ts";

/** Largest checkpoint note accepted, in bytes (a log signature and up to 16 cosignatures). */
export const MAX_CHECKPOINT_BYTES = 16 * 1024;

/** What a verified checkpoint says. */
export interface CheckpointHead {
  origin: string;
  /** Records covered (records 1 to `size`). */
  size: number;
  /** RFC 6962 root of the records' exact bytes. */
  root: Uint8Array;
}

/** A witness as a verifier knows it: its key name and cosigning public key. */
export interface WitnessKey {
  name: string;
  publicKey: Uint8Array;
}

/** How many of which witnesses must have cosigned. */
export interface WitnessPolicy {
  witnesses: readonly WitnessKey[];
  /** Distinct witnesses required, at least 1. */
  threshold: number;
}

/** Options for {@linkcode signLedgerCheckpoint}. */
export interface SignLedgerCheckpointOptions {
  origin: string;
  size: number;
  root: Uint8Array;
  key: SigningKey;
}

/**
 * The checkpoint note of a ledger head, signed by the log key.
 *
 * @example
 * ```ts
 * import { signLedgerCheckpoint, verifyLedgerCheckpoint } from "./checkpoint.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const key = await SigningKey.fromSeed(generateSeed());
 * const note = await signLedgerCheckpoint({
 *   origin: "saoe/0123456789abcdef0123456789abcdef", size: 1, root: new Uint8Array(32), key,
 * });
 * const head = await verifyLedgerCheckpoint(note, {
 *   origin: "saoe/0123456789abcdef0123456789abcdef",
 *   logKeys: { name: "checkpoint key", keys: [key], threshold: 1 },
 * });
 * if (head.size !== 1) throw new Error();
 * ```
 */
export async function signLedgerCheckpoint(options: SignLedgerCheckpointOptions): Promise<string> {
  const text = formatCheckpoint({
    origin: options.origin,
    size: options.size,
    rootHash: options.root,
    extensions: [],
  });
  const signature = await signNoteEd25519(text, { name: options.origin, key: options.key });
  return formatNote({ text, signatures: [signature] });
}

function logVerifiers(origin: string, logKeys: TrustedKeySet): Verifier[] {
  return logKeys.keys.map((k) => ed25519Verifier(origin, k.publicKey));
}

function headOf(note: SignedNote, origin: string, what: string): CheckpointHead {
  const body = parseCheckpoint(note.text);
  if (body.origin !== origin) {
    throw new SaoeError(
      "checkpoint_signature",
      `Cannot accept ${what}: it names log ${JSON.stringify(body.origin)}, not ${
        JSON.stringify(origin)
      }`,
    );
  }
  return { origin, size: body.size, root: body.rootHash };
}

function parse(input: string | Uint8Array, what: string): SignedNote {
  try {
    return parseNote(input, MAX_CHECKPOINT_BYTES);
  } catch (err: unknown) {
    throw new SaoeError(
      "checkpoint_signature",
      `Cannot read ${what}: ${err instanceof Error ? err.message : String(err)}`,
      {},
      { cause: err },
    );
  }
}

async function requireLogSignature(
  note: SignedNote,
  origin: string,
  logKeys: TrustedKeySet,
  what: string,
): Promise<void> {
  try {
    await verifyNote(note, logVerifiers(origin, logKeys));
  } catch (err: unknown) {
    throw new SaoeError(
      "checkpoint_signature",
      `Cannot accept ${what}: no signature by ${logKeys.name} verifies (${
        err instanceof Error ? err.message : String(err)
      })`,
      {},
      { cause: err },
    );
  }
}

/** Options for {@linkcode verifyLedgerCheckpoint}. */
export interface VerifyLedgerCheckpointOptions {
  origin: string;
  /** The keys trusted to sign this log's checkpoints. */
  logKeys: TrustedKeySet;
  /** For messages; default "the checkpoint". */
  what?: string;
}

/** Verifies a log-signed checkpoint note; throws `checkpoint_signature`. */
export async function verifyLedgerCheckpoint(
  input: string | Uint8Array,
  options: VerifyLedgerCheckpointOptions,
): Promise<CheckpointHead> {
  const what = options.what ?? "the checkpoint";
  const note = parse(input, what);
  const head = headOf(note, options.origin, what);
  await requireLogSignature(note, options.origin, options.logKeys, what);
  return head;
}

/** A checkpoint verified as signed by the log and cosigned per the policy. */
export interface WitnessedHead extends CheckpointHead {
  /** The witnesses whose cosignatures verified, with their timestamps (seconds). */
  cosigners: { name: string; timestamp: number }[];
}

/** Options for {@linkcode verifyWitnessedCheckpoint}. */
export interface VerifyWitnessedOptions extends VerifyLedgerCheckpointOptions {
  policy: WitnessPolicy;
}

/**
 * Verifies a checkpoint note signed by the log and cosigned by at least
 * `policy.threshold` distinct witnesses of the policy; throws
 * `checkpoint_signature` naming how many verified.
 */
export async function verifyWitnessedCheckpoint(
  input: string | Uint8Array,
  options: VerifyWitnessedOptions,
): Promise<WitnessedHead> {
  const what = options.what ?? "the witnessed checkpoint";
  const note = parse(input, what);
  const head = headOf(note, options.origin, what);
  await requireLogSignature(note, options.origin, options.logKeys, what);
  const cosigners: { name: string; timestamp: number }[] = [];
  for (const witness of options.policy.witnesses) {
    const verifier = cosignatureVerifier(witness.name, witness.publicKey);
    const mine = note.signatures.filter((s) =>
      s.name === verifier.name && s.keyId === verifier.keyId
    );
    if (mine.length === 0) continue;
    try {
      await verifyNote({ text: note.text, signatures: mine }, [verifier]);
    } catch {
      throw new SaoeError(
        "checkpoint_signature",
        `Cannot accept ${what}: the cosignature of witness ${witness.name} does not verify`,
      );
    }
    cosigners.push({ name: witness.name, timestamp: cosignatureTimestamp(mine[0]!) });
  }
  if (cosigners.length < options.policy.threshold) {
    throw new SaoeError(
      "checkpoint_signature",
      `Cannot accept ${what}: ${cosigners.length} of the ${options.policy.witnesses.length} configured witnesses cosigned it, ${options.policy.threshold} required`,
    );
  }
  return { ...head, cosigners };
}
