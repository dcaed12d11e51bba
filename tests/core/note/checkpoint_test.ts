import assert from "node:assert/strict";
import {
  type CheckpointBody,
  formatCheckpoint,
  parseCheckpoint,
} from "../../../core/primitives/note/checkpoint.ts";
import { parseNote } from "../../../core/primitives/note/note.ts";
import { throwsCode } from "../json/_fixtures.ts";
import { CHECKPOINT, SPEC } from "./_fixtures.ts";

const ROOT = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";

Deno.test("the tlog-checkpoint spec's example parses into origin, size and root", () => {
  const note = parseNote(SPEC.checkpoint_example);
  assert.equal(note.text, CHECKPOINT);
  const body = parseCheckpoint(note.text);
  assert.equal(body.origin, "example.com/behind-the-sofa");
  assert.equal(body.size, 20852163);
  assert.deepEqual(body.rootHash, Uint8Array.fromBase64(ROOT));
  assert.deepEqual(body.extensions, []);
  assert.equal(note.signatures[0]!.name, body.origin);
  assert.equal(note.signatures[0]!.bytes.byteLength, 64);
});

Deno.test("formatCheckpoint() gives back the spec's example text exactly", () => {
  assert.equal(formatCheckpoint(parseCheckpoint(CHECKPOINT)), CHECKPOINT);
});

Deno.test("extension lines round-trip in order", () => {
  const body: CheckpointBody = {
    origin: "example.com/log",
    size: 0,
    rootHash: new Uint8Array(32).fill(7),
    extensions: ["first extension", "— second +ext"],
  };
  const text = formatCheckpoint(body);
  assert.equal(text.split("\n").length, 6);
  assert.deepEqual(parseCheckpoint(text), body);
});

Deno.test("sizes are canonical decimals from 0 to 2^53 - 1", () => {
  for (const size of [0, 1, 10, 20852163, Number.MAX_SAFE_INTEGER]) {
    const text = `o\n${size}\n${ROOT}\n`;
    assert.equal(parseCheckpoint(text).size, size);
    assert.equal(formatCheckpoint(parseCheckpoint(text)), text);
  }
});

Deno.test("a size with a sign, leading zeros, spaces, digits beyond 2^53 - 1 or no digits is refused", () => {
  const bad = [
    "00",
    "01",
    "+1",
    "-1",
    " 1",
    "1 ",
    "1.0",
    "1e3",
    "0x10",
    "",
    "9007199254740992",
    "99999999999999999",
    "١٢",
  ];
  for (const size of bad) throwsCode(() => parseCheckpoint(`o\n${size}\n${ROOT}\n`), "parse_error");
});

Deno.test("a root hash that is not exactly 32 bytes of canonical standard base64 is refused", () => {
  const bad = [
    ROOT.slice(0, -1),
    ROOT.replace("=", ""),
    ROOT.replaceAll("/", "_"),
    new Uint8Array(31).toBase64(),
    new Uint8Array(33).toBase64(),
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=", // non-zero pad bits
    `${ROOT} `,
    "",
  ];
  for (const root of bad) throwsCode(() => parseCheckpoint(`o\n5\n${root}\n`), "parse_error");
});

Deno.test("an empty origin, an empty extension line or a missing line is refused", () => {
  throwsCode(() => parseCheckpoint(`\n5\n${ROOT}\n`), "parse_error");
  throwsCode(() => parseCheckpoint(`o\n5\n${ROOT}\n\n`), "parse_error");
  throwsCode(() => parseCheckpoint(`o\n5\n${ROOT}\next\n\n`), "parse_error");
  throwsCode(() => parseCheckpoint("o\n5\n"), "parse_error");
  throwsCode(() => parseCheckpoint(`5\n${ROOT}\n`), "parse_error");
});

Deno.test("a checkpoint without its final newline, with CRLF or a control character is refused", () => {
  throwsCode(() => parseCheckpoint(CHECKPOINT.slice(0, -1)), "parse_error");
  throwsCode(() => parseCheckpoint(CHECKPOINT.replaceAll("\n", "\r\n")), "parse_error");
  throwsCode(() => parseCheckpoint(`o\t1\n5\n${ROOT}\n`), "parse_error");
  throwsCode(() => parseCheckpoint(42 as never), "parse_error");
});

Deno.test("formatCheckpoint() refuses bodies that would not parse back", () => {
  const good: CheckpointBody = {
    origin: "o",
    size: 1,
    rootHash: new Uint8Array(32),
    extensions: [],
  };
  formatCheckpoint(good);
  const bad: CheckpointBody[] = [
    { ...good, origin: "" },
    { ...good, origin: "two\nlines" },
    { ...good, origin: "cr\r" },
    { ...good, size: -1 },
    { ...good, size: 1.5 },
    { ...good, size: 2 ** 53 },
    { ...good, rootHash: new Uint8Array(31) },
    { ...good, extensions: [""] },
    { ...good, extensions: ["a\nb"] },
  ];
  for (const body of bad) throwsCode(() => formatCheckpoint(body), "parse_error");
});
