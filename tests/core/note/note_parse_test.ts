import assert from "node:assert/strict";
import {
  formatNote,
  MAX_NOTE_BYTES,
  MAX_NOTE_SIGNATURES,
  parseNote,
  type SignedNote,
} from "../../../core/primitives/note/note.ts";
import { throwsCode } from "../json/_fixtures.ts";
import { bytes, GO, SPEC } from "./_fixtures.ts";

const SIG = new Uint8Array(68).map((_, i) => i + 1).toBase64();
const LINE = `— example.com/k ${SIG}\n`;

Deno.test("the signed-note spec's example parses: the text keeps its own blank line", () => {
  const note = parseNote(SPEC.signed_note_example);
  assert.equal(
    note.text,
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n",
  );
  assert.equal(note.signatures.length, 1);
  const [sig] = note.signatures;
  assert.equal(sig!.name, "quasimodo.example/salvatore");
  assert.equal(sig!.keyId, 0x367ba04b);
  assert.equal(sig!.bytes.byteLength, 64);
});

Deno.test("the spec examples and the Go example format back to their exact text", () => {
  for (
    const text of [
      SPEC.signed_note_example,
      SPEC.checkpoint_example,
      SPEC.cosigned_checkpoint_example,
      GO.signed_note,
    ]
  ) {
    assert.equal(formatNote(parseNote(text)), text);
    assert.equal(formatNote(parseNote(bytes(text))), text);
  }
});

Deno.test("a note given as bytes parses like the same note given as a string", () => {
  const text = `héllo ✓\n\n${LINE}`;
  assert.deepEqual(parseNote(bytes(text)), parseNote(text));
});

Deno.test("parseNote() reads the key ID big-endian and keeps the signature after it", () => {
  const raw = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 9, 8, 7);
  const note = parseNote(`x\n\n— k ${raw.toBase64()}\n`);
  assert.deepEqual(note.signatures, [{
    name: "k",
    keyId: 0xdeadbeef,
    bytes: Uint8Array.of(9, 8, 7),
  }]);
});

Deno.test("a note with several signatures keeps them in order", () => {
  const note = parseNote(`t\n\n${GO.peter_sig_line}${GO.enoch_sig_line}`);
  assert.deepEqual(note.signatures.map((s) => [s.name, s.keyId]), [
    ["PeterNeumann", 0xc74f20a3],
    ["EnochRoot", 0xaf0cfe78],
  ]);
});

Deno.test("the Go test's malformed notes are all refused with parse_error", () => {
  for (const bad of GO.bad_notes) {
    const input = bad.note ?? Uint8Array.fromHex(bad.note_hex!);
    throwsCode(() => parseNote(input), "parse_error");
  }
});

Deno.test("a control character anywhere is refused, and the message names it and its line", () => {
  for (const c of ["\u0000", "\t", "\u000b", "\u001b", "\u001f"]) {
    throwsCode(() => parseNote(`ok\nbad${c}\n\n${LINE}`), "parse_error");
    throwsCode(() => parseNote(`ok\n\n— example.com/k${c} ${SIG}\n`), "parse_error");
  }
  const err = throwsCode(() => parseNote(`ok\nbad\t\n\n${LINE}`), "parse_error");
  assert.match(err.message, /control character U\+0009 on line 2/);
});

Deno.test("CRLF line endings are refused", () => {
  const err = throwsCode(
    () => parseNote(`text\r\n\r\n${LINE.replace("\n", "\r\n")}`),
    "parse_error",
  );
  assert.match(err.message, /U\+000D/);
});

Deno.test("invalid UTF-8 and lone surrogates are refused", () => {
  throwsCode(() => parseNote(Uint8Array.of(0x61, 0xc3, 0x0a, 0x0a)), "parse_error");
  throwsCode(
    () => parseNote(Uint8Array.of(0xed, 0xa0, 0x80, 0x0a, 0x0a, ...bytes(LINE))),
    "parse_error",
  );
  throwsCode(() => parseNote(`a\ud800\n\n${LINE}`), "parse_error");
});

Deno.test("a note without the blank line before its signatures is refused", () => {
  const err = throwsCode(() => parseNote(`text\n${LINE}`), "parse_error");
  assert.match(err.message, /no blank line/);
});

Deno.test("a note without a signature is refused", () => {
  assert.match(throwsCode(() => parseNote("text\n\n"), "parse_error").message, /no signature/);
  throwsCode(() => parseNote("text\n"), "parse_error");
  throwsCode(() => parseNote(""), "parse_error");
});

Deno.test("a signature block with a blank line or a line that is not a signature is refused", () => {
  throwsCode(() => parseNote(`text\n\n${LINE}\n`), "parse_error");
  throwsCode(() => parseNote(`text\n\n- example.com/k ${SIG}\n`), "parse_error");
  throwsCode(() => parseNote(`text\n\n—example.com/k ${SIG}\n`), "parse_error");
  throwsCode(() => parseNote(`text\n\n— example.com/k${SIG}\n`), "parse_error");
});

Deno.test("a last signature line without its newline is refused", () => {
  throwsCode(() => parseNote(`text\n\n${LINE.slice(0, -1)}`), "parse_error");
});

Deno.test("bad base64 in a signature is refused: wrong alphabet, padding, spaces, pad bits", () => {
  const bad = [
    SIG.replace(/=*$/, ""),
    SIG.replace("A", "-"),
    `${SIG} `,
    ` ${SIG}`,
    `${SIG.slice(0, 10)} ${SIG.slice(10)}`,
    "AAAAAAB=", // non-zero pad bits
    "",
  ];
  for (const b64 of bad) throwsCode(() => parseNote(`text\n\n— k ${b64}\n`), "parse_error");
});

Deno.test("a signature shorter than a key ID and one signature byte is refused", () => {
  throwsCode(() => parseNote(`text\n\n— k ${new Uint8Array(4).toBase64()}\n`), "parse_error");
  assert.equal(
    parseNote(`text\n\n— k ${new Uint8Array(5).toBase64()}\n`).signatures[0]!.bytes.length,
    1,
  );
});

Deno.test("a key name that is empty or holds a space or a plus is refused", () => {
  for (const name of ["", "a+b", "+", "a\u00a0b", "a\u2003b", "a\u3000b", "a\u0085b", "a\u2028b"]) {
    throwsCode(() => parseNote(`text\n\n— ${name} ${SIG}\n`), "parse_error");
  }
  // "— a b c": the name is "a", and "b c" is not base64
  throwsCode(() => parseNote(`text\n\n— a b ${SIG}\n`), "parse_error");
});

Deno.test("names may be any other Unicode, as long as they hold no space or plus", () => {
  const note = parseNote(`text\n\n— oid/1.3.6.1.4.1.44363.47.1 ${SIG}\n— 例え.jp/ログ ${SIG}\n`);
  assert.deepEqual(note.signatures.map((s) => s.name), [
    "oid/1.3.6.1.4.1.44363.47.1",
    "例え.jp/ログ",
  ]);
});

Deno.test("up to 64 signatures are accepted and 65 are refused", () => {
  assert.equal(parseNote(`t\n\n${LINE.repeat(MAX_NOTE_SIGNATURES)}`).signatures.length, 64);
  const err = throwsCode(
    () => parseNote(`t\n\n${LINE.repeat(MAX_NOTE_SIGNATURES + 1)}`),
    "parse_error",
  );
  assert.match(err.message, /65 signature lines/);
});

Deno.test("an over-long note is refused before it is decoded, as a string and as bytes", () => {
  const filler = "a".repeat(MAX_NOTE_BYTES);
  throwsCode(() => parseNote(`${filler}\n\n${LINE}`), "parse_error");
  throwsCode(() => parseNote(bytes(`${filler}\n\n${LINE}`)), "parse_error");
  const tail = `\n\n${LINE}`;
  const exact = `${"a".repeat(MAX_NOTE_BYTES - bytes(tail).byteLength)}${tail}`;
  assert.equal(bytes(exact).byteLength, MAX_NOTE_BYTES);
  assert.equal(parseNote(exact).signatures.length, 1);
  throwsCode(() => parseNote(`a${exact}`), "parse_error");
});

Deno.test("the size cap counts UTF-8 bytes, and a caller may lower it", () => {
  const text = `${"é".repeat(40)}\n\n${LINE}`; // 80 bytes of é
  const size = bytes(text).byteLength;
  assert.equal(parseNote(text, size).text.length, 41);
  throwsCode(() => parseNote(text, size - 1), "parse_error");
  throwsCode(() => parseNote(bytes(text), size - 1), "parse_error");
  throwsCode(() => parseNote(text, 0), "parse_error");
});

Deno.test("something that is neither a string nor bytes is refused", () => {
  for (const input of [null, undefined, 42, {}, [1, 2]]) {
    throwsCode(() => parseNote(input as never), "parse_error");
  }
});

Deno.test("formatNote() refuses what parseNote() would refuse", () => {
  const sig = { name: "k", keyId: 1, bytes: Uint8Array.of(1) };
  const bad: SignedNote[] = [
    { text: "no newline", signatures: [sig] },
    { text: "tab\t\n", signatures: [sig] },
    { text: "ok\n", signatures: [] },
    { text: "ok\n", signatures: [{ ...sig, name: "a b" }] },
    { text: "ok\n", signatures: [{ ...sig, name: "a+b" }] },
    { text: "ok\n", signatures: [{ ...sig, name: "" }] },
    { text: "ok\n", signatures: [{ ...sig, keyId: -1 }] },
    { text: "ok\n", signatures: [{ ...sig, keyId: 2 ** 32 }] },
    { text: "ok\n", signatures: [{ ...sig, bytes: new Uint8Array(0) }] },
    { text: "ok\n", signatures: Array.from({ length: 65 }, () => sig) },
  ];
  for (const note of bad) throwsCode(() => formatNote(note), "parse_error");
});

Deno.test("only the last blank line separates: an earlier signature-like line is text", () => {
  const note = parseNote(`text\n\n${LINE}\n${LINE}`);
  assert.equal(note.text, `text\n\n${LINE}`);
  assert.equal(note.signatures.length, 1);
});

Deno.test("a text that itself looks like a signature block still round-trips", () => {
  const text = `story\n\n${LINE}\nmore\n`;
  const note = { text, signatures: [{ name: "k", keyId: 7, bytes: Uint8Array.of(1, 2) }] };
  assert.deepEqual(parseNote(formatNote(note)), note);
  const blank = { text: "ends with a blank line\n\n", signatures: note.signatures };
  assert.deepEqual(parseNote(formatNote(blank)), blank);
});
