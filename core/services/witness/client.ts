/**
 * The client side of a witness, for the supervisor (asking for cosignatures)
 * and `saoe audit verify` (reading the latest cosigned checkpoint):
 *
 * - {@linkcode addCheckpoint}: `POST /add-checkpoint` (c2sp.org/tlog-witness);
 *   a 200 is `cosigned` with the signature lines parsed (not verified: check
 *   them with the witness's vkey), a 409 with a `text/x.tlog.size` body is
 *   `conflict` with the size the witness last cosigned (resend with a proof from
 *   there), any other answer is `refused` with its status and message.
 * - {@linkcode latestCheckpoint}: `GET /checkpoint?origin=…`, SAOE's read
 *   extension (docs/witness.md); the note it returns is parsed, not verified.
 *
 * Answers are read with a byte cap. Only a witness that cannot be reached, or
 * that does not answer in time, throws (`io_error`, naming the URL and the fix).
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { toBase64 } from "../../primitives/crypto/bytes.ts";
import { type NoteSignature, parseNote, type SignedNote } from "../../primitives/note/note.ts";
import { readCapped } from "./read_capped.ts";
import { ADD_CHECKPOINT_PATH, CHECKPOINT_PATH, endpoint, SIZE_CONTENT_TYPE } from "./protocol.ts";

/** Largest answer read from a witness. */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** Default deadline of one request. */
export const DEFAULT_WITNESS_TIMEOUT_MS = 10_000;

/** Options for {@linkcode addCheckpoint}. */
export interface AddCheckpointOptions {
  /** The witness's base URL (its submission prefix), e.g. `http://127.0.0.1:8075`. */
  url: string;
  /** The size the witness last cosigned (0 when unknown: a 409 then names it). */
  oldSize: number;
  /** The consistency proof from `oldSize` to the checkpoint's size (empty from 0). */
  proof: readonly Uint8Array[];
  /** The checkpoint, a signed note with the log's signature. */
  note: string;
  /** Give up after this many milliseconds; {@linkcode DEFAULT_WITNESS_TIMEOUT_MS} by default. */
  timeoutMs?: number;
}

/** What a witness answered to add-checkpoint. */
export type AddCheckpointAnswer =
  | { kind: "cosigned"; signatures: NoteSignature[] }
  | { kind: "conflict"; size: number }
  | { kind: "refused"; status: number; message: string };

/**
 * The exact add-checkpoint request body: `old N`, the proof lines, an empty
 * line, the note.
 *
 * @example
 * ```ts
 * import { addCheckpointBody } from "./client.ts";
 * const body = addCheckpointBody(2, [new Uint8Array(32)], "o\n1\nAA==\n\n— o AAAA\n");
 * if (!body.startsWith("old 2\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\no\n")) throw new Error();
 * ```
 */
export function addCheckpointBody(
  oldSize: number,
  proof: readonly Uint8Array[],
  note: string,
): string {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0) {
    throw new RangeError(`oldSize must be a non-negative integer, got ${oldSize}`);
  }
  return [`old ${oldSize}`, ...proof.map((h) => toBase64(h)), "", note].join("\n");
}

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}

async function send(
  target: URL,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status: number; type: string; text: string }> {
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(target, { ...init, signal, redirect: "error" });
  } catch (err: unknown) {
    if (signal.aborted) {
      throw new SaoeError(
        "io_error",
        `The witness at ${target.origin} did not answer within ${timeoutMs} ms; check that it runs and is not overloaded`,
      );
    }
    throw new SaoeError(
      "io_error",
      `Cannot reach the witness at ${target.origin}: ${
        describe(err)
      }; is \`saoe witness serve\` running there?`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readCapped(
      response,
      MAX_ANSWER_BYTES,
      () =>
        new SaoeError(
          "size_exceeded",
          `The witness at ${target.origin} answered more than ${MAX_ANSWER_BYTES} bytes`,
        ),
    );
  } catch (err: unknown) {
    if (err instanceof SaoeError) throw err;
    throw new SaoeError(
      "io_error",
      `The witness at ${target.origin} broke off its answer: ${describe(err)}`,
    );
  }
  return {
    status: response.status,
    type: (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase(),
    text: new TextDecoder().decode(bytes),
  };
}

/**
 * Asks the witness at `options.url` to cosign a checkpoint.
 *
 * @example
 * ```ts ignore
 * const answer = await addCheckpoint({ url: "http://127.0.0.1:8075", oldSize: 0, proof: [], note });
 * if (answer.kind === "conflict") console.log(`the witness is at size ${answer.size}`);
 * ```
 */
export async function addCheckpoint(options: AddCheckpointOptions): Promise<AddCheckpointAnswer> {
  const body = addCheckpointBody(options.oldSize, options.proof, options.note);
  const submitted = parseNote(options.note);
  const target = endpoint(options.url, ADD_CHECKPOINT_PATH);
  const answer = await send(
    target,
    { method: "POST", body, headers: { "content-type": "text/plain; charset=utf-8" } },
    options.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS,
  );
  if (answer.status === 409 && answer.type === SIZE_CONTENT_TYPE) {
    const m = /^(0|[1-9][0-9]{0,15})\n$/.exec(answer.text);
    const size = m === null ? NaN : Number(m[1]);
    if (Number.isSafeInteger(size)) return { kind: "conflict", size };
    return refused(
      409,
      `The witness sent a malformed size: ${JSON.stringify(answer.text.slice(0, 40))}`,
    );
  }
  if (answer.status !== 200) return refused(answer.status, answer.text.trim());
  // the spec's way to read the answer: signature lines appended to the checkpoint's text
  let signatures: NoteSignature[];
  try {
    signatures = parseNote(`${submitted.text}\n${answer.text}`).signatures;
  } catch (err: unknown) {
    return refused(200, `The witness answered no well-formed signature lines: ${describe(err)}`);
  }
  return { kind: "cosigned", signatures };
}

function refused(status: number, message: string): AddCheckpointAnswer {
  return { kind: "refused", status, message: message.slice(0, 500) };
}

/** Options for {@linkcode latestCheckpoint}. */
export interface LatestCheckpointOptions {
  /** The witness's base URL (its monitoring prefix). */
  url: string;
  /** The log's origin. */
  origin: string;
  timeoutMs?: number;
}

/**
 * The latest checkpoint the witness cosigned for `origin`, as a signed note
 * (the log's signatures and the witness's cosignature; verify both), or
 * `undefined` when it has none. Any other answer is an `io_error`.
 *
 * @example
 * ```ts ignore
 * const note = await latestCheckpoint({ url: "http://127.0.0.1:8075", origin: "saoe.example/ledger" });
 * ```
 */
export async function latestCheckpoint(
  options: LatestCheckpointOptions,
): Promise<SignedNote | undefined> {
  const target = endpoint(options.url, CHECKPOINT_PATH);
  target.searchParams.set("origin", options.origin);
  const answer = await send(
    target,
    { method: "GET" },
    options.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS,
  );
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) {
    throw new SaoeError(
      "io_error",
      `The witness at ${target.origin} refused to give the checkpoint of ${options.origin} (HTTP ${answer.status}): ${
        answer.text.trim().slice(0, 300)
      }`,
    );
  }
  try {
    return parseNote(answer.text, MAX_ANSWER_BYTES);
  } catch (err: unknown) {
    throw new SaoeError(
      "parse_error",
      `The witness at ${target.origin} answered a malformed checkpoint note for ${options.origin}: ${
        describe(err)
      }`,
    );
  }
}
