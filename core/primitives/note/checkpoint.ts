/**
 * Transparency log checkpoints (c2sp.org/tlog-checkpoint): the note text that
 * carries a log's tree head, as lines `origin`, `tree size`, `base64(root hash)`
 * and optional extension lines, each ending in a newline.
 *
 * Parsing decides only the shape, strictly: a non-empty origin, a size in
 * canonical decimal (no sign, no leading zero) of at most 2^53 - 1, a root of
 * exactly 32 bytes in canonical standard base64, and non-empty extension lines.
 * It trusts nothing: a checkpoint means something only once its note's
 * signature by the log verified.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { fromBase64, toBase64 } from "../crypto/bytes.ts";
import { HASH_BYTES } from "../merkle/hash.ts";
import { checkNoteChars, checkNoteText } from "./text.ts";

/** The tree head a checkpoint states. */
export interface CheckpointBody {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions: string[];
}

const SIZE_RE = /^(?:0|[1-9][0-9]{0,15})$/;

function checkLine(line: string, what: string): void {
  checkNoteChars(line, what);
  if (line.length === 0) {
    throw new SaoeError("parse_error", `Invalid checkpoint: the ${what} is empty`);
  }
  if (line.includes("\n")) {
    throw new SaoeError("parse_error", `Invalid checkpoint: the ${what} contains a newline`);
  }
}

/**
 * Formats the note text of a checkpoint. Refuses an empty origin or extension
 * line, a line holding a newline or control character, a size that is not a
 * safe non-negative integer and a root that is not 32 bytes.
 *
 * @example
 * ```ts
 * import { formatCheckpoint } from "./checkpoint.ts";
 * const text = formatCheckpoint({
 *   origin: "example.com/log", size: 3, rootHash: new Uint8Array(32), extensions: [],
 * });
 * if (text !== "example.com/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n") throw new Error();
 * ```
 */
export function formatCheckpoint(body: CheckpointBody): string {
  checkLine(body?.origin, "origin");
  if (!Number.isSafeInteger(body.size) || body.size < 0) {
    throw new SaoeError(
      "parse_error",
      `Invalid checkpoint: tree size ${body.size} is not a safe non-negative integer`,
    );
  }
  if (!(body.rootHash instanceof Uint8Array) || body.rootHash.byteLength !== HASH_BYTES) {
    throw new SaoeError(
      "parse_error",
      `Invalid checkpoint: the root hash is not ${HASH_BYTES} bytes`,
    );
  }
  if (!Array.isArray(body.extensions)) {
    throw new SaoeError("parse_error", "Invalid checkpoint: extensions are not a list of lines");
  }
  body.extensions.forEach((line, i) => checkLine(line, `extension line ${i + 1}`));
  const lines = [body.origin, String(body.size), toBase64(body.rootHash), ...body.extensions];
  return lines.map((line) => `${line}\n`).join("");
}

/**
 * Parses the note text of a checkpoint strictly.
 *
 * @example
 * ```ts
 * import { parseCheckpoint } from "./checkpoint.ts";
 * const cp = parseCheckpoint(
 *   "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
 * );
 * if (cp.size !== 20852163 || cp.rootHash.byteLength !== 32) throw new Error();
 * ```
 */
export function parseCheckpoint(text: string): CheckpointBody {
  checkNoteText(text, "checkpoint");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) {
    throw new SaoeError(
      "parse_error",
      `Invalid checkpoint: ${lines.length} line(s), but origin, tree size and root hash are required`,
    );
  }
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) {
    throw new SaoeError("parse_error", "Invalid checkpoint: the origin is empty");
  }
  if (!SIZE_RE.test(size) || !Number.isSafeInteger(Number(size))) {
    throw new SaoeError(
      "parse_error",
      `Invalid checkpoint: tree size ${
        JSON.stringify(size.slice(0, 40))
      } is not a decimal of at most 2^53 - 1 without leading zeros`,
    );
  }
  const rootHash = fromBase64(root, "checkpoint root hash");
  if (rootHash.byteLength !== HASH_BYTES) {
    throw new SaoeError(
      "parse_error",
      `Invalid checkpoint: the root hash is ${rootHash.byteLength} bytes, not ${HASH_BYTES}`,
    );
  }
  extensions.forEach((line, i) => {
    if (line.length === 0) {
      throw new SaoeError("parse_error", `Invalid checkpoint: extension line ${i + 1} is empty`);
    }
  });
  return { origin, size: Number(size), rootHash, extensions };
}
