/**
 * Text ↔ HTML for the viewer: every value from the ledger, the status file or a
 * published page reaches the viewer's HTML only through {@linkcode esc}, which
 * escapes the five characters that can end a text node or a quoted attribute
 * value. Attribute values are always written double-quoted.
 *
 * @module
 */

import { escapeHtml } from "../../primitives/web/escape.ts";

/** Escapes text for an HTML text node or a double-quoted attribute value ({@linkcode escapeHtml}). */
export const esc: (text: string) => string = escapeHtml;

const NAMED: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  sol: "/",
  colon: ":",
  period: ".",
  lpar: "(",
  rpar: ")",
  Tab: "\t",
  NewLine: "\n",
};

function codePoint(n: number): string {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff && (n < 0xd800 || n > 0xdfff)
    ? String.fromCodePoint(n)
    : "\ufffd";
}

/**
 * Decodes numeric character references and the common named ones (the result is
 * only ever inspected or escaped again, never inserted as HTML). Semicolons are
 * optional, as browsers accept `&#47` too.
 *
 * @example
 * ```ts
 * import { decodeEntities } from "./html.ts";
 * if (decodeEntities("&lt;b&gt; &#47;&#x2F;&sol;") !== "<b> ///") throw new Error();
 * ```
 */
export function decodeEntities(text: string): string {
  return text.replace(
    /&(?:#[xX]([0-9a-fA-F]{1,8});?|#([0-9]{1,10});?|([A-Za-z]{2,8});)/g,
    (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
      if (hex !== undefined) return codePoint(parseInt(hex, 16));
      if (dec !== undefined) return codePoint(parseInt(dec, 10));
      return name !== undefined && Object.hasOwn(NAMED, name) ? NAMED[name]! : whole;
    },
  );
}
