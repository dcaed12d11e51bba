/**
 * The pure half of `POST /add-checkpoint` (c2sp.org/tlog-witness): reading the
 * request body, and deciding, from what the witness last cosigned for the
 * origin, whether the submitted checkpoint may be cosigned. No I/O, no clock,
 * no keys: `handler.ts` verifies the log's signature, and runs
 * {@linkcode decideCheckpoint} inside the database transaction that stores the
 * result.
 *
 * The body is an `old N` line, at most 63 base64 consistency proof lines, an
 * empty line, and the checkpoint as a signed note. The decision, in the order
 * the spec gives:
 *
 * - `old` is not the size last cosigned (0 before the first): `conflict`
 *   (409, the body names the stored size);
 * - the checkpoint's size is `old` and its root is not the stored root: `fork`
 *   (409);
 * - the proof does not prove the stored tree a prefix of the new one:
 *   `inconsistent` (422);
 * - else `accept`.
 *
 * @module
 */
import { constantTimeEqual, fromBase64 } from "../../primitives/crypto/bytes.ts";
import { isSaoeError } from "../../primitives/errors.ts";
import { HASH_BYTES } from "../../primitives/merkle/hash.ts";
import { verifyConsistency } from "../../primitives/merkle/proof.ts";
import { type CheckpointBody, parseCheckpoint } from "../../primitives/note/checkpoint.ts";
import { parseNote, type SignedNote } from "../../primitives/note/note.ts";

/** Largest request body read, in bytes (the spec's 63 proof lines and 16 signatures fit easily). */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Most consistency proof lines a request may carry (c2sp.org/tlog-witness). */
export const MAX_PROOF_LINES = 63;

/** A request body that parsed. */
export interface AddCheckpointRequest {
  /** The size the client believes the witness last cosigned. */
  oldSize: number;
  /** The consistency proof from `oldSize` to the checkpoint's size. */
  proof: Uint8Array<ArrayBuffer>[];
  /** The checkpoint as a signed note, exactly as sent. */
  noteText: string;
  note: SignedNote;
  checkpoint: CheckpointBody;
}

/** A refused request: the HTTP status and a message that names the problem. */
export class WitnessRefusal extends Error {
  /** The HTTP status to answer. */
  readonly status: number;
  /** Creates a refusal answered with `status`. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "WitnessRefusal";
    this.status = status;
  }
}

function malformed(message: string): WitnessRefusal {
  return new WitnessRefusal(400, `Malformed add-checkpoint request: ${message}`);
}

const OLD_RE = /^old (0|[1-9][0-9]{0,15})$/;
const DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses an add-checkpoint request body; a {@linkcode WitnessRefusal} with 400
 * for anything malformed, including an old size above the checkpoint's size
 * and a proof sent with old size 0.
 *
 * @example
 * ```ts
 * import { parseAddCheckpoint } from "./add_checkpoint.ts";
 * let status = 0;
 * try {
 *   parseAddCheckpoint(new TextEncoder().encode("old 01\n\n"));
 * } catch (err) {
 *   status = (err as { status: number }).status;
 * }
 * if (status !== 400) throw new Error("a leading zero must be refused");
 * ```
 */
export function parseAddCheckpoint(body: Uint8Array): AddCheckpointRequest {
  if (body.byteLength > MAX_REQUEST_BYTES) {
    throw new WitnessRefusal(413, `The request body exceeds ${MAX_REQUEST_BYTES} bytes`);
  }
  let text: string;
  try {
    text = DECODER.decode(body);
  } catch {
    throw malformed("the body is not UTF-8");
  }
  const firstEnd = text.indexOf("\n");
  if (firstEnd < 0) throw malformed("expected an `old N` line ending in a newline");
  const oldMatch = OLD_RE.exec(text.slice(0, firstEnd));
  if (oldMatch === null) {
    throw malformed(
      "the first line must be `old` and the previous tree size in decimal without leading zeros",
    );
  }
  const oldSize = Number(oldMatch[1]);
  if (!Number.isSafeInteger(oldSize)) throw malformed("the old size is too large");
  const proof: Uint8Array<ArrayBuffer>[] = [];
  let at = firstEnd + 1;
  for (;;) {
    const end = text.indexOf("\n", at);
    if (end < 0) throw malformed("expected an empty line between the proof and the checkpoint");
    const line = text.slice(at, end);
    at = end + 1;
    if (line === "") break;
    if (proof.length === MAX_PROOF_LINES) {
      throw malformed(`more than ${MAX_PROOF_LINES} consistency proof lines`);
    }
    let hash: Uint8Array<ArrayBuffer>;
    try {
      hash = fromBase64(line, "proof line");
    } catch {
      throw malformed(`consistency proof line ${proof.length + 1} is not canonical base64`);
    }
    if (hash.byteLength !== HASH_BYTES) {
      throw malformed(
        `consistency proof line ${proof.length + 1} is not a ${HASH_BYTES}-byte hash`,
      );
    }
    proof.push(hash);
  }
  const noteText = text.slice(at);
  let note: SignedNote;
  let checkpoint: CheckpointBody;
  try {
    note = parseNote(noteText, MAX_REQUEST_BYTES);
    checkpoint = parseCheckpoint(note.text);
  } catch (err: unknown) {
    if (!isSaoeError(err)) throw err;
    throw malformed(`the checkpoint is not a signed checkpoint note: ${err.message}`);
  }
  if (!Number.isSafeInteger(checkpoint.size)) throw malformed("the checkpoint size is too large");
  if (oldSize > checkpoint.size) {
    throw malformed(`the old size ${oldSize} exceeds the checkpoint size ${checkpoint.size}`);
  }
  if (oldSize === 0 && proof.length > 0) {
    throw malformed("a request with old size 0 must carry no consistency proof");
  }
  return { oldSize, proof, noteText, note, checkpoint };
}

/** What the witness last cosigned for a log: size 0 and no root before the first. */
export interface CosignedState {
  size: number;
  root?: Uint8Array;
}

/** The decision on one request. */
export type CheckpointDecision =
  | { kind: "accept" }
  | { kind: "conflict"; size: number }
  | { kind: "fork"; size: number }
  | { kind: "inconsistent" };

/**
 * Decides a parsed request against the stored state (pure, synchronous).
 *
 * @example
 * ```ts
 * import { decideCheckpoint } from "./add_checkpoint.ts";
 * const root = new Uint8Array(32).fill(7);
 * const request = { oldSize: 3, proof: [], checkpoint: { size: 3, rootHash: root } };
 * if (decideCheckpoint({ size: 5, root }, request).kind !== "conflict") throw new Error();
 * if (decideCheckpoint({ size: 3, root }, request).kind !== "accept") throw new Error();
 * const other = new Uint8Array(32).fill(8);
 * if (decideCheckpoint({ size: 3, root: other }, request).kind !== "fork") throw new Error();
 * ```
 */
export function decideCheckpoint(
  stored: CosignedState,
  request: {
    oldSize: number;
    proof: readonly Uint8Array[];
    checkpoint: { size: number; rootHash: Uint8Array };
  },
): CheckpointDecision {
  const { oldSize, proof, checkpoint } = request;
  if (oldSize !== stored.size) return { kind: "conflict", size: stored.size };
  if (checkpoint.size === oldSize) {
    if (stored.root !== undefined && !constantTimeEqual(stored.root, checkpoint.rootHash)) {
      return { kind: "fork", size: stored.size };
    }
    return proof.length === 0 ? { kind: "accept" } : { kind: "inconsistent" };
  }
  // any tree extends the empty one; the parser refused a proof from 0
  if (oldSize === 0) return { kind: "accept" };
  if (stored.root === undefined) return { kind: "inconsistent" };
  const consistent = verifyConsistency({
    oldSize,
    newSize: checkpoint.size,
    oldRoot: stored.root,
    newRoot: checkpoint.rootHash,
    proof,
  });
  return consistent ? { kind: "accept" } : { kind: "inconsistent" };
}
