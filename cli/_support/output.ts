/**
 * Output helpers: every string that came from a file, a ledger record or an
 * agent is printed as inert text, a table for people, and JSON that is safe on
 * a terminal too.
 *
 * Why: an audit event's `detail.message` or a dead-letter reason can quote bytes
 * an attacker chose. Printed raw, an escape sequence (`ESC [`, or the one-byte
 * C1 `CSI` U+009B) could recolour, hide or rewrite lines of the operator's
 * terminal, and bidi overrides could reorder what they read. `JSON.stringify`
 * escapes C0 controls but leaves DEL, C1 and bidi controls as raw characters.
 *
 * @module
 */
import { jsonText } from "../../core/primitives/json/inert_json.ts";
import { inert } from "../../core/primitives/text/inert_text.ts";

export { inert, jsonText };

/**
 * Lays rows out as left-aligned columns under a header (cells made inert).
 *
 * @example
 * ```ts
 * import { renderTable } from "./output.ts";
 * const lines = renderTable(["agent", "state"], [["planner", "running"]]);
 * if (lines[1] !== "planner  running") throw new Error(lines.join("\n"));
 * ```
 */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  const cells = [header, ...rows].map((row) => row.map((c) => inert(c)));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  return cells.map((row) =>
    row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd()
  );
}

/**
 * Quotes one argument for a POSIX shell when it needs it, so a printed command
 * line can be copied.
 *
 * @example
 * ```ts
 * import { shellQuote } from "./output.ts";
 * if (shellQuote("--allow-read=/a,/b") !== "--allow-read=/a,/b") throw new Error();
 * if (shellQuote("a b") !== "'a b'") throw new Error();
 * ```
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_./=,:@%+-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}
