import assert from "node:assert/strict";
import {
  anyJson,
  anyObject,
  arr,
  bool,
  DecodeError,
  int,
  literal,
  obj,
  oneOf,
  optional,
  record,
  str,
} from "../../../core/primitives/json/decode.ts";
import { parseStrictJsonText } from "../../../core/primitives/json/strict_parse.ts";
import { throwsCode } from "./_fixtures.ts";

const point = obj({ name: str(), x: int(), tags: optional(arr(str())) });

function decodeError(fn: () => unknown, path: string): DecodeError {
  try {
    fn();
  } catch (err: unknown) {
    assert.ok(err instanceof DecodeError, `expected a DecodeError, got ${String(err)}`);
    assert.equal(err.path, path);
    assert.ok(err.message.includes(path), `message ${err.message} does not name ${path}`);
    return err;
  }
  return assert.fail("expected a DecodeError");
}

Deno.test("obj() decodes exactly the declared fields", () => {
  assert.deepEqual(point({ name: "p", x: 3 }, "$"), { name: "p", x: 3 });
});

Deno.test("obj() refuses an unknown field and names its path", () => {
  const err = decodeError(() => point({ name: "p", x: 1, admin: true }, "$"), "$.admin");
  assert.equal(err.code, "parse_error");
  assert.match(err.message, /unknown/);
});

Deno.test("obj() names the full path of an unknown field in nested objects and arrays", () => {
  const doc = obj({ inner: obj({ items: arr(obj({ id: int() })) }) });
  decodeError(
    () => doc({ inner: { items: [{ id: 1 }, { id: 2, extra: 0 }] } }, "$"),
    "$.inner.items[1].extra",
  );
  decodeError(() => doc({ inner: { items: [], more: 1 } }, "$"), "$.inner.more");
});

Deno.test("obj() refuses keys that name Object.prototype members", () => {
  // hasOwn, not `in`: "constructor" and "__proto__" are unknown fields, not shape members
  decodeError(() => point({ name: "p", x: 1, constructor: 1 }, "$"), "$.constructor");
  const parsed = parseStrictJsonText('{"name":"p","x":1,"__proto__":{"x":2}}', { maxBytes: 100 });
  decodeError(() => point(parsed, "$"), "$.__proto__");
});

Deno.test("obj() refuses a missing required field and names it", () => {
  const err = decodeError(() => point({ name: "p" }, "$"), "$.x");
  assert.match(err.message, /required/);
});

Deno.test("obj() leaves an absent optional field absent and decodes a present one", () => {
  const without = point({ name: "p", x: 1 }, "$");
  assert.equal(Object.hasOwn(without, "tags"), false);
  assert.deepEqual(point({ name: "p", x: 1, tags: ["a"] }, "$").tags, ["a"]);
});

Deno.test("obj() refuses an optional field that is present with the wrong type", () => {
  decodeError(() => point({ name: "p", x: 1, tags: null }, "$"), "$.tags");
  decodeError(() => point({ name: "p", x: 1, tags: [1] }, "$"), "$.tags[0]");
});

Deno.test("obj() refuses values that are not objects", () => {
  for (const value of [null, [], "x", 1, true, undefined]) {
    decodeError(() => point(value, "$"), "$");
  }
});

Deno.test("str() refuses non-strings and strings over maxLength", () => {
  const s = str({ maxLength: 3 });
  assert.equal(s("abc", "$.s"), "abc");
  for (const value of [1, null, ["a"], { a: 1 }, true]) decodeError(() => s(value, "$.s"), "$.s");
  decodeError(() => s("abcd", "$.s"), "$.s");
});

Deno.test("str() reports its code for a pattern mismatch and for an over-long value", () => {
  const id = str({ pattern: /^[a-z]+$/, maxLength: 4, code: "bad_identifier", what: "an id" });
  assert.equal(throwsCode(() => id("A", "$.id"), "bad_identifier").message.includes("an id"), true);
  throwsCode(() => id("abcde", "$.id"), "bad_identifier");
  // a wrong type is a malformed document, not a malformed identifier
  throwsCode(() => id(5, "$.id"), "parse_error");
});

Deno.test("int() refuses non-integers, unsafe integers and values outside the range", () => {
  const n = int(1, 10);
  assert.equal(n(10, "$.n"), 10);
  for (const value of [0, 11, 1.5, "5", NaN, Infinity, -1, 2 ** 53, null, true]) {
    decodeError(() => n(value, "$.n"), "$.n");
  }
  decodeError(() => int()(-1, "$.n"), "$.n");
});

Deno.test("bool() refuses anything but a boolean", () => {
  assert.equal(bool(false, "$.b"), false);
  for (const value of ["true", 1, 0, null]) decodeError(() => bool(value, "$.b"), "$.b");
});

Deno.test("literal() refuses any other value and reports its code", () => {
  const version = literal("1", "unsupported_version");
  assert.equal(version("1", "$.version"), "1");
  throwsCode(() => version("2", "$.version"), "unsupported_version");
  throwsCode(() => version(1, "$.version"), "unsupported_version");
});

Deno.test("arr() refuses non-arrays and more than maxItems items", () => {
  const a = arr(int(), 2);
  assert.deepEqual(a([1, 2], "$.a"), [1, 2]);
  decodeError(() => a([1, 2, 3], "$.a"), "$.a");
  decodeError(() => a({ 0: 1, length: 1 }, "$.a"), "$.a");
  decodeError(() => a([1, "2"], "$.a"), "$.a[1]");
});

Deno.test("record() refuses a key that does not match its pattern and names it", () => {
  const r = record(/^[a-z]{1,8}$/, int());
  assert.deepEqual(r({ a: 1, bb: 2 }, "$.r"), { a: 1, bb: 2 });
  decodeError(() => r({ a: 1, "../x": 2 }, "$.r"), "$.r.../x");
  decodeError(() => r({ A: 1 }, "$.r"), "$.r.A");
  decodeError(() => r({ a: "1" }, "$.r"), "$.r.a");
  decodeError(() => r([], "$.r"), "$.r");
});

Deno.test("record() refuses more than maxKeys keys", () => {
  const r = record(/^k\d+$/, int(), 2);
  r({ k1: 1, k2: 2 }, "$");
  decodeError(() => r({ k1: 1, k2: 2, k3: 3 }, "$"), "$");
});

Deno.test("record() keeps a __proto__ key as plain data", () => {
  const parsed = parseStrictJsonText('{"__proto__":{"polluted":1}}', { maxBytes: 100 });
  const out = record(/^.+$/, anyObject)(parsed, "$");
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.ok(Object.hasOwn(out, "__proto__"));
  assert.equal((out as Record<string, unknown>).polluted, undefined);
});

Deno.test("oneOf() accepts the listed values and refuses anything else", () => {
  const mode = oneOf(["read", "write"]);
  assert.equal(mode("write", "$.mode"), "write");
  const err = decodeError(() => mode("exec", "$.mode"), "$.mode");
  assert.match(err.message, /read, write/);
  for (const value of ["READ", "read ", 1, null, ["read"]]) {
    decodeError(() => mode(value, "$.mode"), "$.mode");
  }
});

Deno.test("anyJson() and anyObject() refuse what is not JSON or not an object", () => {
  assert.deepEqual(anyJson([1], "$"), [1]);
  decodeError(() => anyJson(undefined, "$.v"), "$.v");
  for (const value of [[], null, "x"]) decodeError(() => anyObject(value, "$.o"), "$.o");
});
