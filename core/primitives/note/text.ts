/**
 * The character rules of C2SP signed-note shared by notes, checkpoints and
 * verifier keys: text is valid UTF-8 without ASCII control characters other
 * than newline; a key name is non-empty and has no Unicode space and no `+`.
 * Decides only whether a string follows these rules; anything else is a
 * `parse_error` whose message names the character and where it is.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";

// ASCII control characters other than newline (U+000A)
// deno-lint-ignore no-control-regex -- control characters are exactly what it refuses
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
// deno-lint-ignore no-control-regex -- a key name holds no space and no control character
const WHITE_SPACE = /[\p{White_Space}\u0000-\u001f]/u;
const DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Refuses a string that is not well-formed Unicode (so not valid UTF-8) or
 * holds an ASCII control character other than newline.
 *
 * @example
 * ```ts
 * import { checkNoteChars } from "./text.ts";
 * checkNoteChars("two\nlines\n", "note");
 * let refused = false;
 * try { checkNoteChars("tab\there", "note"); } catch { refused = true; }
 * if (!refused) throw new Error();
 * ```
 */
export function checkNoteChars(text: string, what: string): void {
  if (typeof text !== "string") {
    throw new SaoeError("parse_error", `Invalid ${what}: not a string`);
  }
  if (!text.isWellFormed()) {
    throw new SaoeError("parse_error", `Invalid ${what}: not valid UTF-8 (a lone surrogate)`);
  }
  const found = CONTROL.exec(text);
  if (found !== null) {
    const line = text.slice(0, found.index).split("\n").length;
    throw new SaoeError(
      "parse_error",
      `Invalid ${what}: control character ${codePoint(found[0])} on line ${line}`,
    );
  }
}

/**
 * Refuses a note text that breaks the character rules or does not end in a newline.
 *
 * @example
 * ```ts
 * import { checkNoteText } from "./text.ts";
 * checkNoteText("hello\n");
 * let refused = false;
 * try { checkNoteText("no final newline"); } catch { refused = true; }
 * if (!refused) throw new Error();
 * ```
 */
export function checkNoteText(text: string, what = "note text"): void {
  checkNoteChars(text, what);
  if (!text.endsWith("\n")) {
    throw new SaoeError("parse_error", `Invalid ${what}: it does not end in a newline`);
  }
}

/**
 * Refuses a key name that is empty, not a string, or holds a Unicode space,
 * a control character or a `+`.
 *
 * @example
 * ```ts
 * import { checkKeyName } from "./text.ts";
 * checkKeyName("example.com/log");
 * let refused = false;
 * try { checkKeyName("a+b"); } catch { refused = true; }
 * if (!refused) throw new Error();
 * ```
 */
export function checkKeyName(name: string, what = "key name"): void {
  if (typeof name !== "string" || name.length === 0) {
    throw new SaoeError("parse_error", `Invalid ${what}: it is empty`);
  }
  if (!name.isWellFormed()) {
    throw new SaoeError("parse_error", `Invalid ${what}: not valid UTF-8 (a lone surrogate)`);
  }
  const space = WHITE_SPACE.exec(name);
  if (space !== null) {
    throw new SaoeError(
      "parse_error",
      `Invalid ${what} ${
        JSON.stringify(name.slice(0, 80))
      }: it contains the space or control character ${codePoint(space[0])}`,
    );
  }
  if (name.includes("+")) {
    throw new SaoeError(
      "parse_error",
      `Invalid ${what} ${JSON.stringify(name.slice(0, 80))}: it contains "+"`,
    );
  }
}

/**
 * Decodes strict UTF-8 (no replacement characters; a byte-order mark is kept
 * as text), so that encoding the result gives back the same bytes.
 *
 * @example
 * ```ts
 * import { decodeUtf8 } from "./text.ts";
 * if (decodeUtf8(new Uint8Array([0x68, 0x69]), "note") !== "hi") throw new Error();
 * ```
 */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return DECODER.decode(bytes);
  } catch {
    throw new SaoeError("parse_error", `Invalid ${what}: not valid UTF-8`);
  }
}
