/**
 * The one HTML escape of SAOE: every untrusted value placed in a page (the viewer,
 * the intake form, a published article's frame) goes through
 * {@linkcode escapeHtml}, which escapes the five characters that can end a text
 * node or a quoted attribute value. Attribute values are always double-quoted.
 *
 * @module
 */

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for an HTML text node or a double-quoted attribute value.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./escape.ts";
 * if (escapeHtml(`<a href="x">&'`) !== "&lt;a href=&quot;x&quot;&gt;&amp;&#39;") throw new Error();
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
