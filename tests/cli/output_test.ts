/**
 * The CLI's output helpers keep attacker-chosen text inert on a terminal, and
 * usage values are checked strictly.
 */
import assert from "node:assert/strict";
import { inert, jsonText, renderTable, shellQuote } from "../../cli/_support/output.ts";
import { eventLine } from "../../cli/_support/event_line.ts";
import { intOption, UsageError } from "../../cli/_support/usage.ts";

// every character class a terminal acts on: C0 incl. ESC and BEL, DEL, C1 incl. CSI and OSC,
// zero-width, bidi embeddings, overrides and isolates, line/paragraph separators, BOM
const DANGEROUS = [
  ..."\u0000\u0007\u0008\u000a\u000d\u001b\u007f\u0080\u008d\u009b\u009d\u009f",
  ..."\u200b\u200e\u200f\u2028\u2029\u202a\u202d\u202e\u2066\u2069\ufeff",
];

Deno.test("inert() escapes every control, zero-width and bidi character visibly", () => {
  for (const c of DANGEROUS) {
    const out = inert(`a${c}b`);
    assert.equal(out, `a\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}b`);
  }
  assert.equal(inert("plain ünïcödé ✓"), "plain ünïcödé ✓");
  assert.equal(inert("abcdef", 3), "abc…");
});

Deno.test("jsonText() is valid JSON with the same value and no raw dangerous character", () => {
  const value = { m: DANGEROUS.join("x"), n: [1, "\u009b"] };
  const text = jsonText(value);
  assert.deepEqual(JSON.parse(text), value);
  for (const c of DANGEROUS) assert.ok(!text.includes(c), `raw U+${c.charCodeAt(0).toString(16)}`);
});

Deno.test("eventLine() prints an event's fields inert and marks absent ones", () => {
  const line = eventLine({
    seq: 9,
    event: {
      type: "handler_error",
      at: "2026-01-01T00:00:00Z",
      agent: "deployment",
      reason: "handler_error",
      detail: { message: "\u001b]8;;http://evil\u0007click\u001b]8;;\u0007" },
    },
  });
  for (const c of DANGEROUS) assert.ok(!line.includes(c));
  assert.ok(line.includes("\\u001b]8;;http://evil\\u0007click"));
  assert.match(line, /session=- {2}envelope=- {2}reason=handler_error/);
  assert.match(eventLine({ seq: 2, problem: "bad \u001b" }), /undecodable record: bad \\u001b/);
});

Deno.test("renderTable() aligns columns and shellQuote() quotes only what needs it", () => {
  assert.deepEqual(renderTable(["a", "bb"], [["xxx", "y\u001b"]]), ["a    bb", "xxx  y\\u001b"]);
  assert.equal(
    shellQuote("--allow-read=/srv/saoe/trust,/srv/saoe/x"),
    "--allow-read=/srv/saoe/trust,/srv/saoe/x",
  );
  assert.equal(shellQuote("/a dir/it's"), `'/a dir/it'"'"'s'`);
});

Deno.test("intOption() accepts plain integers in range and refuses anything else", () => {
  const spec = { name: "limit", min: 1, max: 100 };
  assert.equal(intOption("100", spec), 100);
  for (const bad of ["0", "101", "1e2", "-1", " 5", "0x10", "", "5.0"]) {
    assert.throws(() => intOption(bad, spec), UsageError, bad);
  }
});
