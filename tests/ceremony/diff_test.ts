import assert from "node:assert/strict";
import { MAX_DIFF_CELLS, unifiedDiff } from "../../core/services/ceremony/diff.ts";

const labels = { oldLabel: "a", newLabel: "b" };

/** Applies a unified diff's hunks to `old` (a check that the diff is correct, not just plausible). */
function applyDiff(old: string, lines: string[]): string {
  const source = old === "" ? [] : old.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let at = 0;
  for (const line of lines.slice(2)) {
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(line);
    if (hunk !== null) {
      const start = Number(hunk[1]) - (hunk[2] === "0" ? 0 : 1);
      while (at < start) out.push(source[at++]!);
      continue;
    }
    if (line.startsWith("\\")) continue;
    const kind = line[0];
    if (kind === " " || kind === "-") {
      assert.equal(source[at], line.slice(1), "context and removals match the old text");
      at++;
    }
    if (kind === " " || kind === "+") out.push(line.slice(1));
  }
  while (at < source.length) out.push(source[at++]!);
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

Deno.test("unifiedDiff() is empty for equal texts", () => {
  assert.deepEqual(unifiedDiff("a\nb\n", "a\nb\n", labels), { lines: [], added: 0, removed: 0 });
});

Deno.test("unifiedDiff() shows one changed line with three lines of context", () => {
  const old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  const next = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n";
  const d = unifiedDiff(old, next, labels);
  assert.deepEqual(d.lines, [
    "--- a",
    "+++ b",
    "@@ -2,7 +2,7 @@",
    " 2",
    " 3",
    " 4",
    "-5",
    "+FIVE",
    " 6",
    " 7",
    " 8",
  ]);
  assert.equal(d.added, 1);
  assert.equal(d.removed, 1);
  assert.equal(applyDiff(old, d.lines), next);
});

Deno.test("unifiedDiff() keeps distant changes in separate hunks and near ones in one", () => {
  const old = Array.from({ length: 30 }, (_, i) => `${i}`).join("\n") + "\n";
  const next = old.replace("\n3\n", "\nthree\n").replace("\n25\n", "\ntwenty-five\n");
  const d = unifiedDiff(old, next, labels);
  assert.equal(d.lines.filter((l) => l.startsWith("@@")).length, 2);
  assert.equal(applyDiff(old, d.lines), next);
  const near = old.replace("\n3\n", "\nthree\n").replace("\n7\n", "\nseven\n");
  const n = unifiedDiff(old, near, labels);
  assert.equal(n.lines.filter((l) => l.startsWith("@@")).length, 1);
  assert.equal(applyDiff(old, n.lines), near);
});

Deno.test("unifiedDiff() diffs against an empty text (a first publish) and marks a missing final newline", () => {
  const d = unifiedDiff("", "x\ny", labels);
  assert.deepEqual(d.lines, [
    "--- a",
    "+++ b",
    "@@ -0,0 +1,2 @@",
    "+x",
    "+y",
    "\\ No newline at end of file",
  ]);
  const only = unifiedDiff("x\n", "x", labels);
  assert.deepEqual(only.lines, [
    "--- a",
    "+++ b",
    "@@ -1 +1 @@",
    "-x",
    "+x",
    "\\ No newline at end of file",
  ]);
});

Deno.test("unifiedDiff() finds the minimal edit for moved and inserted lines", () => {
  const old = "a\nb\nc\nd\ne\n";
  const next = "a\nc\nd\nb\ne\nf\n";
  const d = unifiedDiff(old, next, labels);
  assert.equal(d.added + d.removed, 3);
  assert.equal(applyDiff(old, d.lines), next);
});

Deno.test("unifiedDiff() past the table bound still produces a correct diff", () => {
  const size = Math.ceil(Math.sqrt(MAX_DIFF_CELLS)) + 10;
  const old = Array.from({ length: size }, (_, i) => `o${i}`).join("\n") + "\n";
  const next = Array.from({ length: size }, (_, i) => i % 2 === 0 ? `o${i}` : `n${i}`).join("\n") +
    "\n";
  const d = unifiedDiff(`head\n${old}tail\n`, `head\n${next}tail\n`, labels);
  assert.equal(applyDiff(`head\n${old}tail\n`, d.lines), `head\n${next}tail\n`);
});
