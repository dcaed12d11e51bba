import assert from "node:assert/strict";
import { readLines } from "../../core/services/supervisor/line_reader.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks.map((c) => enc.encode(c)));
}

Deno.test("readLines() joins lines split across chunks and reports a trailing partial line", async () => {
  const lines: string[] = [];
  const result = await readLines(streamOf("ab", "c\nde", "f\n\ng", "h"), {
    maxLineBytes: 16,
    onLine: (l) => void lines.push(dec.decode(l)),
  });
  assert.deepEqual(lines, ["abc", "def", ""]);
  assert.equal(result.end, "eof");
  assert.equal(dec.decode(result.trailing), "gh");
});

Deno.test("readLines() stops at a line longer than the bound, even without a newline", async () => {
  const lines: string[] = [];
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(enc.encode(pulled === 1 ? "ok\n" : "x".repeat(1000)));
    },
  });
  const result = await readLines(endless, {
    maxLineBytes: 4096,
    onLine: (l) => void lines.push(dec.decode(l)),
  });
  assert.equal(result.end, "overflow");
  assert.deepEqual(lines, ["ok"]);
  assert.ok(pulled < 10, `read ${pulled} chunks: the bound was not enforced`);
});

Deno.test("readLines() accepts a line of exactly the bound and refuses one byte more", async () => {
  const ok = await readLines(streamOf("12345\n"), { maxLineBytes: 5, onLine: () => {} });
  assert.equal(ok.end, "eof");
  const over = await readLines(streamOf("123456\n"), { maxLineBytes: 5, onLine: () => {} });
  assert.equal(over.end, "overflow");
});

Deno.test("readLines() in split mode cuts an over-long line into bounded pieces", async () => {
  const lines: string[] = [];
  const result = await readLines(streamOf("abcdefg\nhi\n"), {
    maxLineBytes: 3,
    overflow: "split",
    onLine: (l) => void lines.push(dec.decode(l)),
  });
  assert.equal(result.end, "eof");
  assert.deepEqual(lines, ["abc", "def", "g", "hi"]);
});

Deno.test("readLines() stops when onLine returns false", async () => {
  const lines: string[] = [];
  const result = await readLines(streamOf("a\nb\nc\n"), {
    maxLineBytes: 8,
    onLine: (l) => {
      lines.push(dec.decode(l));
      return lines.length < 2;
    },
  });
  assert.equal(result.end, "stopped");
  assert.deepEqual(lines, ["a", "b"]);
});
