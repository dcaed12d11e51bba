/**
 * Text that is safe on a terminal: every string that came from a file, a ledger
 * record or an agent (its stderr included) is shown this way.
 *
 * Why: such text can carry bytes an attacker chose. Printed raw, an escape
 * sequence (`ESC [`, or the one-byte C1 `CSI` U+009B) could recolour, hide or
 * rewrite lines of the operator's terminal, set its window title or write its
 * clipboard (OSC 52), and bidi overrides could reorder what they read.
 *
 * @module
 */
import { escapeCodeUnit } from "../json/inert_json.ts";

// C0, DEL, C1, zero-width and bidi controls, line/paragraph separators, BOM
// deno-lint-ignore no-control-regex
const UNSAFE_RE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Makes `text` inert for a terminal: every control, zero-width and bidi character
 * becomes a visible `\uXXXX` escape; `max` truncates (with `…`).
 *
 * @example
 * ```ts
 * import { inert } from "./inert_text.ts";
 * if (inert("a\u001b[31mb") !== "a\\u001b[31mb") throw new Error();
 * if (inert("\u009b2J") !== "\\u009b2J") throw new Error();
 * ```
 */
export function inert(text: string, max?: number): string {
  const cut = max !== undefined && text.length > max ? `${text.slice(0, max)}…` : text;
  return cut.replace(UNSAFE_RE, escapeCodeUnit);
}
