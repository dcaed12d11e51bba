/**
 * A line diff in the unified format (`--- a`, `+++ b`, `@@ -l,n +l,n @@`), for
 * `saoe publish` to show the operator exactly what a publish changes.
 *
 * The edit script comes from a longest common subsequence over the lines that
 * differ once the common head and tail are trimmed. The table is bounded
 * ({@linkcode MAX_DIFF_CELLS}): past it the changed middle is shown as removed
 * then added, still a correct diff, only not a minimal one (a 1 MiB template
 * cannot make the ceremony allocate gigabytes). A missing newline at the end of
 * either side is shown with the usual `\ No newline at end of file` marker.
 *
 * The text is shown as given: the caller makes it inert for a terminal.
 *
 * @module
 */

/** Largest LCS table (old lines × new lines of the changed middle) computed. */
export const MAX_DIFF_CELLS = 4_000_000;

/** Lines of unchanged context around each change. */
export const DEFAULT_CONTEXT = 3;

/** Options for {@linkcode unifiedDiff}. */
export interface UnifiedDiffOptions {
  /** Label of the old side (`--- label`). */
  oldLabel: string;
  /** Label of the new side (`+++ label`). */
  newLabel: string;
  /** Context lines around each change; default {@linkcode DEFAULT_CONTEXT}. */
  context?: number;
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

interface Line {
  text: string;
  /** Whether the line ends with a newline (only the last line may not). */
  eol: boolean;
}

interface Op {
  kind: " " | "-" | "+";
  line: Line;
}

function splitLines(text: string): Line[] {
  if (text === "") return [];
  const parts = text.split("\n");
  const last = parts.pop()!;
  const lines: Line[] = parts.map((t) => ({ text: t, eol: true }));
  if (last !== "") lines.push({ text: last, eol: false });
  return lines;
}

function same(a: Line, b: Line): boolean {
  return a.text === b.text && a.eol === b.eol;
}

function middleOps(a: Line[], b: Line[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0 || n * m > MAX_DIFF_CELLS) {
    return [
      ...a.map((line): Op => ({ kind: "-", line })),
      ...b.map((line): Op => ({ kind: "+", line })),
    ];
  }
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = same(a[i]!, b[j]!)
        ? lcs[(i + 1) * width + j + 1]! + 1
        : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (same(a[i]!, b[j]!)) {
      ops.push({ kind: " ", line: a[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) {
      ops.push({ kind: "-", line: a[i++]! });
    } else {
      ops.push({ kind: "+", line: b[j++]! });
    }
  }
  while (i < n) ops.push({ kind: "-", line: a[i++]! });
  while (j < m) ops.push({ kind: "+", line: b[j++]! });
  return ops;
}

function editScript(a: Line[], b: Line[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && same(a[head]!, b[head]!)) head++;
  let tail = 0;
  while (
    tail < a.length - head && tail < b.length - head &&
    same(a[a.length - 1 - tail]!, b[b.length - 1 - tail]!)
  ) tail++;
  return [
    ...a.slice(0, head).map((line): Op => ({ kind: " ", line })),
    ...middleOps(a.slice(head, a.length - tail), b.slice(head, b.length - tail)),
    ...a.slice(a.length - tail).map((line): Op => ({ kind: " ", line })),
  ];
}

function range(start: number, count: number): string {
  // unified format: an empty range names the line before it
  return count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`;
}

/**
 * Computes the unified diff of `oldText` → `newText`.
 *
 * @example
 * ```ts
 * import { unifiedDiff } from "./diff.ts";
 * const d = unifiedDiff("a\nb\nc\n", "a\nB\nc\n", { oldLabel: "old", newLabel: "new" });
 * if (d.lines.join("\n") !== "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c") {
 *   throw new Error(d.lines.join("\n"));
 * }
 * ```
 */
export function unifiedDiff(
  oldText: string,
  newText: string,
  options: UnifiedDiffOptions,
): DiffResult {
  const context = options.context ?? DEFAULT_CONTEXT;
  const ops = editScript(splitLines(oldText), splitLines(newText));
  const changed = ops.flatMap((op, index) => op.kind === " " ? [] : [index]);
  if (changed.length === 0) return { lines: [], added: 0, removed: 0 };

  // group changes whose context windows touch into one hunk
  const hunks: Array<[number, number]> = [];
  for (const index of changed) {
    const start = Math.max(0, index - context);
    const end = Math.min(ops.length, index + context + 1);
    const last = hunks[hunks.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = end;
    else hunks.push([start, end]);
  }

  // line numbers (1-based) of the old and new side at each op index
  const oldAt: number[] = [];
  const newAt: number[] = [];
  let o = 1;
  let n = 1;
  for (const op of ops) {
    oldAt.push(o);
    newAt.push(n);
    if (op.kind !== "+") o++;
    if (op.kind !== "-") n++;
  }

  const lines = [`--- ${options.oldLabel}`, `+++ ${options.newLabel}`];
  let added = 0;
  let removed = 0;
  for (const [start, end] of hunks) {
    const slice = ops.slice(start, end);
    const oldCount = slice.filter((op) => op.kind !== "+").length;
    const newCount = slice.filter((op) => op.kind !== "-").length;
    lines.push(
      `@@ -${range(oldAt[start]!, oldCount)} +${range(newAt[start]!, newCount)} @@`,
    );
    for (const op of slice) {
      lines.push(`${op.kind}${op.line.text}`);
      if (!op.line.eol) lines.push("\\ No newline at end of file");
      if (op.kind === "+") added++;
      if (op.kind === "-") removed++;
    }
  }
  return { lines, added, removed };
}
