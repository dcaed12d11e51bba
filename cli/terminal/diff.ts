/**
 * A line diff in the unified format (`--- a`, `+++ b`, `@@ -l,n +l,n @@`), for
 * `saoe publish` to show the operator exactly what a publish changes: the core
 * plan carries the text published now and the text that will be, and this
 * module renders the difference for the terminal (and `--json`'s `diff`).
 *
 * The edit script is the `diff` package's (Myers' algorithm over lines, a
 * minimal edit). Its cost grows with the number of edits, so it is bounded
 * ({@linkcode MAX_EDIT_LENGTH}): past it the changed middle (between the common
 * head and tail) is shown as removed then added, still a correct diff, only not
 * a minimal one (a 1 MiB template rewritten line by line cannot make the
 * ceremony spin). A missing newline at the end of either side is shown with the
 * usual `\ No newline at end of file` marker.
 *
 * The text is shown as given: the caller makes it inert for a terminal.
 *
 * @module
 */
import { structuredPatch } from "diff";

/** Most line edits (removed + added) the minimal diff is searched for. */
export const MAX_EDIT_LENGTH = 2_000;

/** Lines of unchanged context around each change. */
export const DEFAULT_CONTEXT = 3;

/** One side of a diff: its text and the label its header line names. */
export interface DiffSide {
  /** Label of the side (`--- label` or `+++ label`). */
  label: string;
  text: string;
}

/** Options for {@linkcode unifiedDiff}. */
export interface UnifiedDiffOptions {
  /** Context lines around each change; default {@linkcode DEFAULT_CONTEXT}. */
  context?: number;
  /** Bound of the minimal-diff search; default {@linkcode MAX_EDIT_LENGTH}. */
  maxEditLength?: number;
}

/** A computed diff. */
export interface DiffResult {
  /** The unified diff lines (headers, hunks); empty when the texts are equal. */
  lines: string[];
  /** Lines added. */
  added: number;
  /** Lines removed. */
  removed: number;
}

/** One hunk: where it starts on each side, how many lines it covers, its lines. */
interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** `" "`, `"-"` or `"+"` then the line without its newline, or the no-newline marker. */
  lines: string[];
}

const NO_NEWLINE = "\\ No newline at end of file";

/** Lines of `text`, each with its newline (the last may have none). */
function splitLines(text: string): string[] {
  return text === "" ? [] : text.split(/(?<=\n)/);
}

/**
 * The bounded fallback: one hunk with the whole changed middle removed, then
 * added, framed by the common head's and tail's context lines.
 */
function fallbackHunks(oldText: string, newText: string, context: number): Hunk[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head && tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) tail++;
  const removed = a.slice(head, a.length - tail);
  const added = b.slice(head, b.length - tail);
  if (removed.length === 0 && added.length === 0) return [];
  const before = a.slice(Math.max(0, head - context), head);
  const after = a.slice(a.length - tail, a.length - tail + context);
  const lines: string[] = [];
  const push = (kind: string, line: string) => {
    if (line.endsWith("\n")) lines.push(`${kind}${line.slice(0, -1)}`);
    else lines.push(`${kind}${line}`, NO_NEWLINE);
  };
  for (const line of before) push(" ", line);
  for (const line of removed) push("-", line);
  for (const line of added) push("+", line);
  for (const line of after) push(" ", line);
  const start = head - before.length + 1;
  return [{
    oldStart: start,
    oldLines: before.length + removed.length + after.length,
    newStart: start,
    newLines: before.length + added.length + after.length,
    lines,
  }];
}

function range(start: number, count: number): string {
  // unified format: an empty range names the line before it
  return count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`;
}

/**
 * Computes the unified diff of `before` → `after`.
 *
 * @example
 * ```ts
 * import { unifiedDiff } from "./diff.ts";
 * const d = unifiedDiff({ label: "old", text: "a\nb\nc\n" }, { label: "new", text: "a\nB\nc\n" });
 * if (d.lines.join("\n") !== "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c") {
 *   throw new Error(d.lines.join("\n"));
 * }
 * ```
 */
export function unifiedDiff(
  before: DiffSide,
  after: DiffSide,
  options: UnifiedDiffOptions = {},
): DiffResult {
  const context = options.context ?? DEFAULT_CONTEXT;
  if (before.text === after.text) return { lines: [], added: 0, removed: 0 };
  const patch = structuredPatch(
    before.label,
    after.label,
    before.text,
    after.text,
    undefined,
    undefined,
    { context, maxEditLength: options.maxEditLength ?? MAX_EDIT_LENGTH },
  );
  const hunks: Hunk[] = patch?.hunks ?? fallbackHunks(before.text, after.text, context);
  if (hunks.length === 0) return { lines: [], added: 0, removed: 0 };
  // the labels are written as given (the package would C-quote unusual file names)
  const lines = [`--- ${before.label}`, `+++ ${after.label}`];
  let added = 0;
  let removed = 0;
  for (const hunk of hunks) {
    lines.push(
      `@@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@`,
    );
    for (const line of hunk.lines) {
      lines.push(line);
      if (line.startsWith("+")) added++;
      else if (line.startsWith("-")) removed++;
    }
  }
  return { lines, added, removed };
}
