/**
 * JSON text that is inert on a terminal: `JSON.stringify` escapes C0 controls
 * but leaves DEL, C1, zero-width and bidi controls as raw characters, which
 * could recolour, hide or reorder what an operator reads when a line quoting
 * attacker-chosen bytes is printed or tailed.
 *
 * @module
 */

// DEL, C1, zero-width and bidi controls, line/paragraph separators, BOM (C0 is
// escaped by JSON.stringify already)
const UNSAFE_IN_JSON_RE = /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** `\uXXXX` for one UTF-16 code unit. */
export function escapeCodeUnit(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * `JSON.stringify` whose output also escapes DEL, C1 and bidi characters, so a
 * JSON line is inert on a terminal and still valid JSON with the same value.
 *
 * @example
 * ```ts
 * import { jsonText } from "./inert_json.ts";
 * const text = jsonText({ m: "\u009b2J" });
 * if (text !== '{"m":"\\u009b2J"}' || JSON.parse(text).m !== "\u009b2J") throw new Error();
 * ```
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON_RE, escapeCodeUnit);
}
