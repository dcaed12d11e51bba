import assert from "node:assert/strict";
import {
  parseStrictJson,
  parseStrictJsonText,
} from "../../../core/primitives/json/strict_parse.ts";
import { bytesOf, joinBytes, throwsCode } from "./_fixtures.ts";

const LIMIT = { maxBytes: 1 << 20 };

function parse(text: string, options: { maxBytes: number; maxDepth?: number } = LIMIT) {
  return parseStrictJson(bytesOf(text), options);
}

function utf16(text: string, littleEndian: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out.push(...(littleEndian ? [unit & 0xff, unit >> 8] : [unit >> 8, unit & 0xff]));
  }
  return out;
}

Deno.test("parseStrictJson() refuses a duplicate key at depth 1", () => {
  throwsCode(() => parse('{"a":1,"a":2}'), "duplicate_key");
});

Deno.test("parseStrictJson() refuses a duplicate key at depth 2", () => {
  throwsCode(() => parse('{"x":{"a":1,"b":0,"a":1}}'), "duplicate_key");
});

Deno.test("parseStrictJson() refuses a duplicate key at depth 4", () => {
  // object(1) > array(2) > object(3) > object(4)
  throwsCode(() => parse('{"x":[{"y":{"a":1,"a":2}}]}'), "duplicate_key");
});

Deno.test("parseStrictJson() refuses a duplicate key spelled once escaped and once raw", () => {
  // JSON.parse keeps the last value; another parser may keep the first: a smuggling vector
  assert.equal(JSON.parse('{"a":1,"\\u0061":2}').a, 2);
  throwsCode(() => parse('{"a":1,"\\u0061":2}'), "duplicate_key");
});

Deno.test("parseStrictJson() accepts the same key in sibling objects", () => {
  assert.deepEqual(parse('{"x":{"a":1},"y":{"a":2}}'), { x: { a: 1 }, y: { a: 2 } });
});

for (const token of ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "+1", "-"]) {
  Deno.test(`parseStrictJson() refuses the number ${token}`, () => {
    throwsCode(() => parse(`{"a":${token}}`), "parse_error");
  });
}

Deno.test("parseStrictJson() refuses malformed numbers JSON does not allow", () => {
  for (const token of ["01", "1.", ".5", "1e", "0x10", "1_000", "--1"]) {
    throwsCode(() => parse(`{"a":${token}}`), "parse_error");
  }
});

Deno.test("parseStrictJson() refuses trailing garbage after the top-level object", () => {
  for (const text of ['{"a":1}x', '{"a":1}{}', '{"a":1},', '{"a":1}\u0000', '{"a":1} //']) {
    throwsCode(() => parse(text), "parse_error");
  }
});

Deno.test("parseStrictJson() accepts JSON whitespace around the top-level object", () => {
  assert.deepEqual(parse(' \t\r\n{"a":1} \t\r\n'), { a: 1 });
});

Deno.test("parseStrictJson() refuses whitespace JSON does not define", () => {
  for (const ws of ["\u00a0", "\u2028", "\ufeff", "\v", "\f"]) {
    throwsCode(() => parse(`{${ws}"a":1}`), "parse_error");
  }
});

Deno.test("parseStrictJson() refuses a top level that is not an object", () => {
  for (const text of ["[1,2]", "[]", '"text"', "42", "null", "true", "", "   "]) {
    throwsCode(() => parse(text), "parse_error");
  }
});

Deno.test("parseStrictJson() refuses syntax JavaScript accepts but JSON does not", () => {
  for (
    const text of [
      "{'a':1}",
      "{a:1}",
      '{"a":1,}',
      '{"a":[1,]}',
      '{"a":1 /* c */}',
      '{"a":tru}',
      '{"a":undefined}',
      '{"a":"\\x41"}',
      '{"a":"\\u12"}',
      '{"a":"open}',
      '{"a" 1}',
      '{"a":1',
    ]
  ) {
    throwsCode(() => parse(text), "parse_error");
  }
});

Deno.test("parseStrictJson() refuses invalid UTF-8 bytes", () => {
  const cases = [
    [0xff], // never valid in UTF-8
    [0x80], // lone continuation byte
    [0xe2, 0x82], // truncated three-byte sequence
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  ];
  for (const bad of cases) {
    throwsCode(
      () => parseStrictJson(joinBytes(bytesOf('{"a":"'), bad, bytesOf('"}')), LIMIT),
      "parse_error",
    );
  }
});

Deno.test("parseStrictJson() refuses overlong UTF-8 encodings", () => {
  // "/" as two, three and four bytes, and an overlong NUL: classic filter bypasses
  for (const bad of [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xf0, 0x80, 0x80, 0xaf], [0xc0, 0x80]]) {
    throwsCode(
      () => parseStrictJson(joinBytes(bytesOf('{"a":"'), bad, bytesOf('"}')), LIMIT),
      "parse_error",
    );
  }
});

Deno.test("parseStrictJson() refuses UTF-8-encoded surrogates (CESU-8)", () => {
  for (const bad of [[0xed, 0xa0, 0x80], [0xed, 0xb0, 0x80], [0xed, 0xbf, 0xbf]]) {
    throwsCode(
      () => parseStrictJson(joinBytes(bytesOf('{"a":"'), bad, bytesOf('"}')), LIMIT),
      "parse_error",
    );
  }
});

Deno.test("parseStrictJson() refuses UTF-16LE and UTF-16BE input with and without a BOM", () => {
  const doc = '{"a":1}';
  const cases = [
    joinBytes([0xff, 0xfe], utf16(doc, true)),
    joinBytes(utf16(doc, true)),
    joinBytes([0xfe, 0xff], utf16(doc, false)),
    joinBytes(utf16(doc, false)),
  ];
  for (const bytes of cases) throwsCode(() => parseStrictJson(bytes, LIMIT), "parse_error");
});

Deno.test("parseStrictJson() refuses a UTF-8 byte order mark", () => {
  throwsCode(
    () => parseStrictJson(joinBytes([0xef, 0xbb, 0xbf], bytesOf('{"a":1}')), LIMIT),
    "parse_error",
  );
});

Deno.test("parseStrictJson() refuses lone surrogate escapes", () => {
  for (
    const esc of ["\\ud800", "\\udc00", "\\udbff", "\\ud800\\u0041", "\\ud800x", "\\udc00\\ud800"]
  ) {
    throwsCode(() => parse(`{"a":"${esc}"}`), "parse_error");
  }
});

Deno.test("parseStrictJson() accepts an escaped surrogate pair and raw four-byte UTF-8", () => {
  assert.equal(parse('{"a":"\\ud83d\\ude00"}').a, "\u{1f600}");
  assert.equal(parse('{"a":"\u{1f600}"}').a, "\u{1f600}");
});

Deno.test("parseStrictJsonText() refuses a raw lone surrogate instead of replacing it", () => {
  throwsCode(() => parseStrictJsonText('{"a":"\ud800"}', LIMIT), "parse_error");
  throwsCode(() => parseStrictJsonText('{"\udc00":1}', LIMIT), "parse_error");
  assert.deepEqual(parseStrictJsonText('{"a":"\u{1f600}"}', LIMIT), { a: "\u{1f600}" });
});

Deno.test("parseStrictJson() refuses raw control characters in strings", () => {
  for (let c = 0; c < 0x20; c++) {
    const ch = String.fromCharCode(c);
    throwsCode(() => parse(`{"a":"x${ch}y"}`), "parse_error");
    throwsCode(() => parse(`{"k${ch}":1}`), "parse_error");
  }
});

Deno.test("parseStrictJson() accepts escaped control characters and DEL", () => {
  assert.equal(parse('{"a":"\\n\\t\\u0000\\u001f\u007f"}').a, "\n\t\u0000\u001f\u007f");
});

Deno.test("parseStrictJson() accepts exactly maxBytes bytes and refuses one more", () => {
  const doc = '{"a":"\u00e9"}'; // 10 bytes: the limit counts bytes, not characters
  const n = bytesOf(doc).byteLength;
  assert.equal(n, 10);
  assert.deepEqual(parse(doc, { maxBytes: n }), { a: "\u00e9" });
  const err = throwsCode(() => parse(doc + " ", { maxBytes: n }), "size_exceeded");
  assert.match(err.message, /11 bytes/);
});

Deno.test("parseStrictJson() checks the size before decoding or parsing anything", () => {
  // invalid UTF-8 and a duplicate key, one byte over: the size refusal comes first
  const bad = joinBytes(bytesOf('{"a":1,"a":"'), [0xff], bytesOf('"}'));
  throwsCode(() => parseStrictJson(bad, { maxBytes: bad.byteLength - 1 }), "size_exceeded");
  throwsCode(() => parseStrictJson(bad, { maxBytes: bad.byteLength }), "parse_error");
});

function nestedObjects(depth: number): string {
  return '{"a":'.repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
}

function nestedArrays(depth: number): string {
  return '{"a":' + "[".repeat(depth - 1) + "]".repeat(depth - 1) + "}";
}

Deno.test("parseStrictJson() accepts nesting up to maxDepth and refuses one level more", () => {
  parse(nestedObjects(5), { maxBytes: 1000, maxDepth: 5 });
  throwsCode(() => parse(nestedObjects(6), { maxBytes: 1000, maxDepth: 5 }), "parse_error");
  parse(nestedArrays(5), { maxBytes: 1000, maxDepth: 5 });
  throwsCode(() => parse(nestedArrays(6), { maxBytes: 1000, maxDepth: 5 }), "parse_error");
});

Deno.test("parseStrictJson() defaults maxDepth to 32", () => {
  parse(nestedObjects(32));
  throwsCode(() => parse(nestedObjects(33)), "parse_error");
});

Deno.test("parseStrictJson() refuses very deep nesting without overflowing the stack", () => {
  throwsCode(() => parse("[".repeat(100_000)), "parse_error");
  throwsCode(() => parse('{"a":'.repeat(100_000)), "parse_error");
});

Deno.test("parseStrictJson() keeps a __proto__ key as plain data, never as the prototype", () => {
  const value = parse('{"__proto__":{"polluted":true},"b":{"__proto__":[1]}}');
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.ok(Object.hasOwn(value, "__proto__"));
  assert.deepEqual(Object.getOwnPropertyDescriptor(value, "__proto__")?.value, { polluted: true });
  assert.equal((value as Record<string, unknown>).polluted, undefined);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const inner = value.b as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(inner), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(inner, "__proto__")?.value, [1]);
  assert.deepEqual(Object.keys(value), ["__proto__", "b"]);
});

Deno.test("parseStrictJson() refuses a duplicate __proto__ key", () => {
  throwsCode(() => parse('{"__proto__":1,"__proto__":2}'), "duplicate_key");
});

const CORPUS = [
  "{}",
  '{"a":[]}',
  '{"a":{}}',
  '{"n":[0,-0,1,-1,0.5,-0.25,1e3,1E-7,1.5e+10,123456789012345,9007199254740993,5e-324]}',
  '{"s":"plain","e":"\\"\\\\\\/\\b\\f\\n\\r\\t","u":"\\u00e9\\u4e2d\\ud83d\\ude00","raw":"é中😀"}',
  '{"t":true,"f":false,"z":null}',
  '{"nested":{"list":[{"k":[1,[2,[3,{"deep":"yes"}]]]}],"empty":""}}',
  ' {\n  "pretty": [\n    1,\n    2\n  ],\t"x" : "y"\r\n}\n',
  '{"":"empty key","constructor":1,"toString":"s","hasOwnProperty":null}',
  '{"__proto__":{"x":1}}',
  '{"order":1,"b":2,"a":3,"10":4,"2":5}',
];

for (const doc of CORPUS) {
  Deno.test(`parseStrictJson() agrees with JSON.parse on ${JSON.stringify(doc.slice(0, 40))}`, () => {
    const strict = parse(doc);
    const reference = JSON.parse(doc);
    assert.deepStrictEqual(strict, reference);
    assert.deepStrictEqual(Object.keys(strict), Object.keys(reference));
    assert.equal(JSON.stringify(strict), JSON.stringify(reference));
  });
}
