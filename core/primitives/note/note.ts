/**
 * C2SP signed notes (c2sp.org/signed-note): a text ending in a newline, a blank
 * line, then one or more lines `— <key name> base64(key ID ‖ signature)`.
 *
 * Parsing is strict and decides only the shape: valid UTF-8, no control
 * character but newline, at most {@linkcode MAX_NOTE_SIGNATURES} signatures,
 * canonical base64, and a size cap checked before anything is decoded; any
 * malformation is a `parse_error` that names it. The text of a note is trusted
 * only once {@linkcode verifyNote} has checked it against configured keys:
 * signatures from unknown (name, key ID) pairs are ignored, a known key whose
 * signature fails rejects the whole note, and so does a note no known key signed
 * (`bad_signature`).
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { fromBase64, toBase64, utf8 } from "../crypto/bytes.ts";
import { PUBLIC_KEY_BYTES, type SigningKey, verifyEd25519 } from "../crypto/ed25519.ts";
import { keyIdHex, keyIdOf, SIG_TYPE_ED25519 } from "./key_id.ts";
import { checkKeyName, checkNoteChars, checkNoteText, decodeUtf8 } from "./text.ts";

export { keyIdOf } from "./key_id.ts";

/** Default size cap of a note in bytes. */
export const MAX_NOTE_BYTES = 64 * 1024;
/** Most signatures a note may carry (the spec requires accepting at least 16). */
export const MAX_NOTE_SIGNATURES = 64;

const SIG_PREFIX = "— ";
// a key ID and at least one signature byte
const MIN_SIG_BYTES = 5;

/** One signature line: the key name, the key ID and the signature after the ID. */
export interface NoteSignature {
  name: string;
  keyId: number;
  /** The signature bytes that follow the 4-byte key ID. */
  bytes: Uint8Array;
}

/** A parsed note: its text (with the final newline) and its signature lines. */
export interface SignedNote {
  text: string;
  signatures: NoteSignature[];
}

/** A configured key that can check signatures of one (name, key ID). */
export interface Verifier {
  name: string;
  keyId: number;
  /** True when `sig` (the bytes after the key ID) is a valid signature of `text`. */
  verify(text: Uint8Array, sig: Uint8Array): Promise<boolean>;
}

function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes);
}

function noteString(input: string | Uint8Array, maxBytes: number): string {
  if (typeof input === "string") {
    // every UTF-16 code unit is at least one UTF-8 byte: a cheap first bound
    if (input.length > maxBytes || utf8(input).byteLength > maxBytes) {
      throw new SaoeError("parse_error", `Invalid note: longer than ${maxBytes} bytes`);
    }
    checkNoteChars(input, "note");
    return input;
  }
  if (!(input instanceof Uint8Array)) {
    throw new SaoeError("parse_error", "Invalid note: not a string or bytes");
  }
  if (input.byteLength > maxBytes) {
    throw new SaoeError("parse_error", `Invalid note: longer than ${maxBytes} bytes`);
  }
  const text = decodeUtf8(input, "note");
  checkNoteChars(text, "note");
  return text;
}

function parseSignatureLine(line: string, n: number): NoteSignature {
  const what = `signature line ${n}`;
  if (!line.startsWith(SIG_PREFIX)) {
    throw new SaoeError("parse_error", `Invalid note: ${what} does not start with "— "`);
  }
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(" ");
  if (space < 0) {
    throw new SaoeError("parse_error", `Invalid note: ${what} has no space after its key name`);
  }
  const name = rest.slice(0, space);
  checkKeyName(name, `key name of ${what}`);
  const raw = fromBase64(rest.slice(space + 1), `signature of ${what}`);
  if (raw.byteLength < MIN_SIG_BYTES) {
    throw new SaoeError(
      "parse_error",
      `Invalid note: ${what} decodes to ${raw.byteLength} bytes, fewer than a key ID and a signature`,
    );
  }
  const keyId = new DataView(raw.buffer, raw.byteOffset).getUint32(0);
  return { name, keyId, bytes: raw.slice(4) };
}

/**
 * Parses a signed note strictly. The text is separated from the signatures by
 * the last blank line; each signature line is `— <name> <base64>`.
 *
 * @example
 * ```ts
 * import { parseNote } from "./note.ts";
 * const sig = new Uint8Array(68).fill(1).toBase64();
 * const note = parseNote(`hello\n\n— example.com/k ${sig}\n`);
 * if (note.text !== "hello\n" || note.signatures[0]!.keyId !== 0x01010101) throw new Error();
 * ```
 */
export function parseNote(
  input: string | Uint8Array,
  maxBytes: number = MAX_NOTE_BYTES,
): SignedNote {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new SaoeError("parse_error", `Invalid note size cap ${maxBytes}`);
  }
  const note = noteString(input, maxBytes);
  const split = note.lastIndexOf("\n\n");
  if (split < 0) {
    throw new SaoeError(
      "parse_error",
      "Invalid note: no blank line separates the text from signatures",
    );
  }
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0) {
    throw new SaoeError("parse_error", "Invalid note: it carries no signature");
  }
  if (!block.endsWith("\n")) {
    throw new SaoeError(
      "parse_error",
      "Invalid note: the last signature line does not end in a newline",
    );
  }
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw new SaoeError(
      "parse_error",
      `Invalid note: ${lines.length} signature lines, more than ${MAX_NOTE_SIGNATURES}`,
    );
  }
  return { text, signatures: lines.map((line, i) => parseSignatureLine(line, i + 1)) };
}

function checkSignature(sig: NoteSignature, n: number): void {
  checkKeyName(sig?.name, `key name of signature ${n}`);
  if (!Number.isInteger(sig.keyId) || sig.keyId < 0 || sig.keyId > 0xffffffff) {
    throw new SaoeError("parse_error", `Invalid key ID of signature ${n}: not a uint32`);
  }
  if (!(sig.bytes instanceof Uint8Array) || sig.bytes.byteLength === 0) {
    throw new SaoeError("parse_error", `Invalid signature ${n}: no signature bytes`);
  }
}

function checkSignatures(signatures: readonly NoteSignature[]): void {
  if (!Array.isArray(signatures) || signatures.length === 0) {
    throw new SaoeError("parse_error", "Invalid note: it carries no signature");
  }
  if (signatures.length > MAX_NOTE_SIGNATURES) {
    throw new SaoeError(
      "parse_error",
      `Invalid note: ${signatures.length} signatures, more than ${MAX_NOTE_SIGNATURES}`,
    );
  }
  signatures.forEach((sig, i) => checkSignature(sig, i + 1));
}

/**
 * Formats a note: its text, a blank line, one line per signature. Refuses
 * anything {@linkcode parseNote} would refuse (other than the size cap).
 *
 * @example
 * ```ts
 * import { formatNote, parseNote } from "./note.ts";
 * const note = { text: "hi\n", signatures: [{ name: "k", keyId: 1, bytes: new Uint8Array([7]) }] };
 * const text = formatNote(note);
 * if (text !== "hi\n\n— k AAAAAQc=\n") throw new Error(text);
 * if (parseNote(text).signatures[0]!.bytes[0] !== 7) throw new Error();
 * ```
 */
export function formatNote(note: SignedNote): string {
  checkNoteText(note?.text);
  checkSignatures(note.signatures);
  const lines = note.signatures.map((sig) => {
    const raw = new Uint8Array(4 + sig.bytes.byteLength);
    new DataView(raw.buffer).setUint32(0, sig.keyId);
    raw.set(sig.bytes, 4);
    return `${SIG_PREFIX}${sig.name} ${toBase64(raw)}\n`;
  });
  return `${note.text}\n${lines.join("")}`;
}

/**
 * A verifier of plain Ed25519 note signatures (type 0x01) by `publicKey`
 * under `name`. Refuses an invalid name or a key that is not 32 bytes.
 *
 * @example
 * ```ts
 * import { SigningKey } from "../crypto/ed25519.ts";
 * import { ed25519Verifier, signNoteEd25519 } from "./note.ts";
 * const key = await SigningKey.fromSeed(new Uint8Array(32).fill(3));
 * const sig = await signNoteEd25519("hi\n", { name: "example.com/k", key });
 * const v = ed25519Verifier("example.com/k", key.publicKey);
 * if (v.keyId !== sig.keyId) throw new Error();
 * if (!await v.verify(new TextEncoder().encode("hi\n"), sig.bytes)) throw new Error();
 * ```
 */
export function ed25519Verifier(name: string, publicKey: Uint8Array): Verifier {
  checkKeyName(name);
  if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES) {
    throw new SaoeError(
      "parse_error",
      `Invalid Ed25519 public key: expected ${PUBLIC_KEY_BYTES} bytes`,
    );
  }
  const key = new Uint8Array(publicKey);
  return Object.freeze({
    name,
    keyId: keyIdOf(name, SIG_TYPE_ED25519, key),
    verify: (text: Uint8Array, sig: Uint8Array): Promise<boolean> =>
      verifyEd25519(key, ownBytes(text), ownBytes(sig)),
  });
}

/**
 * Signs a note text with Ed25519 (type 0x01). Refuses a text that is not a
 * valid note text and an invalid key name.
 *
 * @example
 * ```ts
 * import { SigningKey } from "../crypto/ed25519.ts";
 * import { formatNote, signNoteEd25519 } from "./note.ts";
 * const key = await SigningKey.fromSeed(new Uint8Array(32).fill(3));
 * const sig = await signNoteEd25519("hi\n", { name: "example.com/k", key });
 * if (sig.bytes.byteLength !== 64) throw new Error();
 * if (!formatNote({ text: "hi\n", signatures: [sig] }).startsWith("hi\n\n— example.com/k ")) throw new Error();
 * ```
 */
export async function signNoteEd25519(
  text: string,
  o: { name: string; key: SigningKey },
): Promise<NoteSignature> {
  checkNoteText(text);
  checkKeyName(o.name);
  const bytes = await o.key.sign(utf8(text));
  return { name: o.name, keyId: keyIdOf(o.name, SIG_TYPE_ED25519, o.key.publicKey), bytes };
}

/**
 * Verifies a note against configured keys and returns the names whose
 * signatures verified (each once, in note order). Signatures of unknown
 * (name, key ID) pairs are ignored; every signature of a known key must
 * verify. `bad_signature` when one fails, when none verified, or when two
 * verifiers claim the same (name, key ID).
 *
 * @example
 * ```ts
 * import { SigningKey } from "../crypto/ed25519.ts";
 * import { ed25519Verifier, signNoteEd25519, verifyNote } from "./note.ts";
 * const key = await SigningKey.fromSeed(new Uint8Array(32).fill(3));
 * const sig = await signNoteEd25519("hi\n", { name: "example.com/k", key });
 * const other = { name: "example.com/other", keyId: 7, bytes: new Uint8Array(64) };
 * const names = await verifyNote(
 *   { text: "hi\n", signatures: [other, sig] },
 *   [ed25519Verifier("example.com/k", key.publicKey)],
 * );
 * if (names.join() !== "example.com/k") throw new Error();
 * ```
 */
export async function verifyNote(
  note: SignedNote,
  verifiers: readonly Verifier[],
): Promise<string[]> {
  checkNoteText(note?.text);
  checkSignatures(note.signatures);
  const known = new Map<string, Verifier[]>();
  for (const v of verifiers) {
    const id = `${v.name}+${keyIdHex(v.keyId)}`;
    known.set(id, [...(known.get(id) ?? []), v]);
  }
  const message = utf8(note.text);
  const names: string[] = [];
  for (const sig of note.signatures) {
    const id = `${sig.name}+${keyIdHex(sig.keyId)}`;
    const matches = known.get(id);
    if (matches === undefined) continue;
    if (matches.length > 1) {
      throw new SaoeError(
        "bad_signature",
        `Cannot verify note: ${matches.length} verifiers are configured for key ${id}`,
      );
    }
    let ok = false;
    try {
      ok = await matches[0]!.verify(message, sig.bytes);
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new SaoeError(
        "bad_signature",
        `Cannot accept note: the signature by key ${id} does not verify`,
      );
    }
    if (!names.includes(sig.name)) names.push(sig.name);
  }
  if (names.length === 0) {
    throw new SaoeError(
      "bad_signature",
      `Cannot accept note: none of its ${note.signatures.length} signatures is by a known key`,
    );
  }
  return names;
}
