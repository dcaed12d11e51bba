import assert from "node:assert/strict";
import { MAX_EDIT_LENGTH, unifiedDiff } from "../../cli/terminal/diff.ts";

function diff(before: string, after: string, options?: { maxEditLength?: number }) {
  return unifiedDiff({ label: "a", text: before }, { label: "b", text: after }, options);
}

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
  assert.deepEqual(diff("a\nb\n", "a\nb\n"), { lines: [], added: 0, removed: 0 });
  assert.deepEqual(diff("", ""), { lines: [], added: 0, removed: 0 });
});

Deno.test("unifiedDiff() shows one changed line with three lines of context", () => {
  const old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  const next = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n";
  const d = diff(old, next);
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

Deno.test("unifiedDiff() shows added and removed lines with the ranges of each side", () => {
  const added = diff("a\nb\n", "a\nx\nb\n");
  assert.deepEqual(added.lines, ["--- a", "+++ b", "@@ -1,2 +1,3 @@", " a", "+x", " b"]);
  assert.deepEqual([added.added, added.removed], [1, 0]);
  const removed = diff("a\nx\nb\n", "a\nb\n");
  assert.deepEqual(removed.lines, ["--- a", "+++ b", "@@ -1,3 +1,2 @@", " a", "-x", " b"]);
  assert.deepEqual([removed.added, removed.removed], [0, 1]);
  const emptied = diff("x\n", "");
  assert.deepEqual(emptied.lines, ["--- a", "+++ b", "@@ -1 +0,0 @@", "-x"]);
  assert.equal(applyDiff("x\n", emptied.lines), "");
});

Deno.test("unifiedDiff() keeps distant changes in separate hunks and near ones in one", () => {
  const old = Array.from({ length: 30 }, (_, i) => `${i}`).join("\n") + "\n";
  const next = old.replace("\n3\n", "\nthree\n").replace("\n25\n", "\ntwenty-five\n");
  const d = diff(old, next);
  assert.equal(d.lines.filter((l) => l.startsWith("@@")).length, 2);
  assert.equal(applyDiff(old, d.lines), next);
  const near = old.replace("\n3\n", "\nthree\n").replace("\n7\n", "\nseven\n");
  const n = diff(old, near);
  assert.equal(n.lines.filter((l) => l.startsWith("@@")).length, 1);
  assert.equal(applyDiff(old, n.lines), near);
});

Deno.test("unifiedDiff() diffs against an empty text (a first publish) and marks a missing final newline", () => {
  const d = diff("", "x\ny");
  assert.deepEqual(d.lines, [
    "--- a",
    "+++ b",
    "@@ -0,0 +1,2 @@",
    "+x",
    "+y",
    "\\ No newline at end of file",
  ]);
  const only = diff("x\n", "x");
  assert.deepEqual(only.lines, [
    "--- a",
    "+++ b",
    "@@ -1 +1 @@",
    "-x",
    "+x",
    "\\ No newline at end of file",
  ]);
});

Deno.test("unifiedDiff() writes the labels as given", () => {
  const d = unifiedDiff(
    { label: "published blog_article_intent@1", text: "a\n" },
    { label: 'dir/"ünïcode" file.json (blog_article_intent@2)', text: "b\n" },
  );
  assert.deepEqual(d.lines.slice(0, 2), [
    "--- published blog_article_intent@1",
    '+++ dir/"ünïcode" file.json (blog_article_intent@2)',
  ]);
});

Deno.test("unifiedDiff() finds the minimal edit for moved and inserted lines", () => {
  const old = "a\nb\nc\nd\ne\n";
  const next = "a\nc\nd\nb\ne\nf\n";
  const d = diff(old, next);
  assert.equal(d.added + d.removed, 3);
  assert.equal(applyDiff(old, d.lines), next);
});

Deno.test("unifiedDiff() past the edit bound shows the changed middle removed then added, still a correct diff", () => {
  const size = 2 * MAX_EDIT_LENGTH + 10;
  const old = Array.from({ length: size }, (_, i) => `o${i}`).join("\n") + "\n";
  const next = Array.from({ length: size }, (_, i) => i % 2 === 0 ? `o${i}` : `n${i}`).join("\n") +
    "\n";
  const before = `h1\nh2\nh3\nh4\n${old}t1\nt2\nt3\nt4\n`;
  const after = `h1\nh2\nh3\nh4\n${next}t1\nt2\nt3\nt4\n`;
  const d = diff(before, after);
  assert.equal(applyDiff(before, d.lines), after);
  assert.equal(d.lines.filter((l) => l.startsWith("@@")).length, 1);
  // three lines of context each side (o0 is common), then every removal before every addition
  assert.deepEqual(d.lines.slice(3, 6), [" h3", " h4", " o0"]);
  assert.deepEqual(d.lines.slice(-3), [" t1", " t2", " t3"]);
  const body = d.lines.slice(6, -3);
  const firstAdded = body.findIndex((l) => l.startsWith("+"));
  assert.ok(body.slice(0, firstAdded).every((l) => l.startsWith("-")));
  assert.ok(body.slice(firstAdded).every((l) => l.startsWith("+")));
  // the common head and tail of the middle are context, not edits
  assert.equal(d.removed, size - 1);
  assert.equal(d.added, size - 1);
});

Deno.test("unifiedDiff() past the edit bound still marks a missing final newline", () => {
  const d = diff("a\nb\nc", "a\nB\nC", { maxEditLength: 1 });
  assert.deepEqual(d.lines, [
    "--- a",
    "+++ b",
    "@@ -1,3 +1,3 @@",
    " a",
    "-b",
    "-c",
    "\\ No newline at end of file",
    "+B",
    "+C",
    "\\ No newline at end of file",
  ]);
  assert.deepEqual([d.added, d.removed], [2, 2]);
});
