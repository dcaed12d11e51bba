/**
 * Strict JSON: the only way SAOE turns untrusted bytes into values.
 *
 * It decodes UTF-8 only (a BOM, invalid sequences or lone surrogates are refusals),
 * refuses duplicate keys at any depth (two parsers reading one document two ways is
 * how signed fields get smuggled), refuses `NaN`, `Infinity` and numbers that
 * overflow to them, trailing garbage and a non-object top level, and checks the
 * size before decoding.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";

/** A parsed JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** A parsed JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Limits for {@linkcode parseStrictJson}. */
export interface StrictJsonOptions {
  /** Largest accepted input in bytes (checked before decoding). */
  maxBytes: number;
  /** Deepest accepted nesting of arrays and objects; default 32. */
  maxDepth?: number;
}

const DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses UTF-8 bytes as one JSON object, refusing anything ambiguous.
 *
 * @example
 * ```ts
 * import { parseStrictJson } from "./strict_parse.ts";
 * const value = parseStrictJson(new TextEncoder().encode('{"a":1}'), { maxBytes: 100 });
 * if (value.a !== 1) throw new Error("unexpected");
 * ```
 */
export function parseStrictJson(bytes: Uint8Array, options: StrictJsonOptions): JsonObject {
  if (bytes.byteLength > options.maxBytes) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot parse JSON: ${bytes.byteLength} bytes exceeds the limit of ${options.maxBytes}`,
    );
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new SaoeError("parse_error", "Cannot parse JSON: a byte order mark is not allowed");
  }
  let text: string;
  try {
    text = DECODER.decode(bytes);
  } catch {
    throw new SaoeError("parse_error", "Cannot parse JSON: input is not valid UTF-8");
  }
  const parser = new Parser(text, options.maxDepth ?? 32);
  const value = parser.parseDocument();
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SaoeError("parse_error", "Cannot parse JSON: the top level must be an object");
  }
  return value;
}

/**
 * Parses a string already in memory with the same rules (used for config files).
 *
 * @example
 * ```ts
 * import { parseStrictJsonText } from "./strict_parse.ts";
 * if (parseStrictJsonText('{"a":[1]}', { maxBytes: 100 }).a === undefined) throw new Error();
 * ```
 */
export function parseStrictJsonText(text: string, options: StrictJsonOptions): JsonObject {
  // TextEncoder would silently turn a lone surrogate into U+FFFD: refuse it instead
  if (!text.isWellFormed()) {
    throw new SaoeError("parse_error", "Cannot parse JSON: text contains a lone surrogate");
  }
  return parseStrictJson(new TextEncoder().encode(text), options);
}

const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

class Parser {
  #text: string;
  #pos = 0;
  #maxDepth: number;

  constructor(text: string, maxDepth: number) {
    this.#text = text;
    this.#maxDepth = maxDepth;
  }

  parseDocument(): JsonValue {
    this.#skipWhitespace();
    const value = this.#parseValue(0);
    this.#skipWhitespace();
    if (this.#pos !== this.#text.length) this.#fail("trailing data after the top-level value");
    return value;
  }

  #fail(what: string): never {
    throw new SaoeError("parse_error", `Cannot parse JSON at offset ${this.#pos}: ${what}`);
  }

  #skipWhitespace(): void {
    const t = this.#text;
    let p = this.#pos;
    while (p < t.length) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.#pos = p;
  }

  #parseValue(depth: number): JsonValue {
    const c = this.#text[this.#pos];
    switch (c) {
      case "{":
        return this.#parseObject(depth + 1);
      case "[":
        return this.#parseArray(depth + 1);
      case '"':
        return this.#parseString();
      case "t":
        return this.#literal("true", true);
      case "f":
        return this.#literal("false", false);
      case "n":
        return this.#literal("null", null);
      default:
        if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.#parseNumber();
        return this.#fail(c === undefined ? "unexpected end of input" : "unexpected character");
    }
  }

  #literal<T extends JsonValue>(word: string, value: T): T {
    if (!this.#text.startsWith(word, this.#pos)) this.#fail("invalid literal");
    this.#pos += word.length;
    return value;
  }

  #parseNumber(): number {
    NUMBER_RE.lastIndex = this.#pos;
    const m = NUMBER_RE.exec(this.#text);
    if (m === null) return this.#fail("invalid number");
    this.#pos += m[0].length;
    const n = Number(m[0]);
    // 1e400 parses to Infinity: refuse rather than let a non-finite value in
    if (!Number.isFinite(n)) this.#fail("number out of range");
    return n;
  }

  #parseString(): string {
    const t = this.#text;
    let p = this.#pos + 1;
    let out = "";
    let start = p;
    for (;;) {
      if (p >= t.length) {
        this.#pos = p;
        this.#fail("unterminated string");
      }
      const c = t.charCodeAt(p);
      if (c === 0x22) break;
      if (c < 0x20) {
        this.#pos = p;
        this.#fail("control character in string");
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        // raw surrogates cannot come from valid UTF-8; pairs are fine, lone ones are not
        const next = t.charCodeAt(p + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          p += 2;
          continue;
        }
        this.#pos = p;
        this.#fail("lone surrogate in string");
      }
      if (c === 0x5c) {
        out += t.slice(start, p);
        p = this.#parseEscape(p, (s) => (out += s));
        start = p;
        continue;
      }
      p++;
    }
    out += t.slice(start, p);
    this.#pos = p + 1;
    return out;
  }

  #parseEscape(p: number, emit: (s: string) => void): number {
    const t = this.#text;
    const e = t[p + 1];
    switch (e) {
      case '"':
      case "\\":
      case "/":
        emit(e);
        return p + 2;
      case "b":
        emit("\b");
        return p + 2;
      case "f":
        emit("\f");
        return p + 2;
      case "n":
        emit("\n");
        return p + 2;
      case "r":
        emit("\r");
        return p + 2;
      case "t":
        emit("\t");
        return p + 2;
      case "u": {
        const unit = this.#hex4(p + 2);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (t[p + 6] === "\\" && t[p + 7] === "u") {
            const low = this.#hex4(p + 8);
            if (low >= 0xdc00 && low <= 0xdfff) {
              emit(String.fromCharCode(unit, low));
              return p + 12;
            }
          }
          this.#pos = p;
          this.#fail("lone surrogate escape in string");
        }
        if (unit >= 0xdc00 && unit <= 0xdfff) {
          this.#pos = p;
          this.#fail("lone surrogate escape in string");
        }
        emit(String.fromCharCode(unit));
        return p + 6;
      }
      default:
        this.#pos = p;
        return this.#fail("invalid escape in string");
    }
  }

  #hex4(p: number): number {
    const s = this.#text.slice(p, p + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(s)) {
      this.#pos = p;
      this.#fail("invalid unicode escape");
    }
    return parseInt(s, 16);
  }

  #parseArray(depth: number): JsonValue[] {
    if (depth > this.#maxDepth) this.#fail(`nesting deeper than ${this.#maxDepth}`);
    this.#pos++;
    const out: JsonValue[] = [];
    this.#skipWhitespace();
    if (this.#text[this.#pos] === "]") {
      this.#pos++;
      return out;
    }
    for (;;) {
      this.#skipWhitespace();
      out.push(this.#parseValue(depth));
      this.#skipWhitespace();
      const c = this.#text[this.#pos];
      if (c === ",") {
        this.#pos++;
        continue;
      }
      if (c === "]") {
        this.#pos++;
        return out;
      }
      this.#fail("expected ',' or ']'");
    }
  }

  #parseObject(depth: number): JsonObject {
    if (depth > this.#maxDepth) this.#fail(`nesting deeper than ${this.#maxDepth}`);
    this.#pos++;
    const out: JsonObject = {};
    this.#skipWhitespace();
    if (this.#text[this.#pos] === "}") {
      this.#pos++;
      return out;
    }
    for (;;) {
      this.#skipWhitespace();
      if (this.#text[this.#pos] !== '"') this.#fail("expected a string key");
      const keyAt = this.#pos;
      const key = this.#parseString();
      if (Object.hasOwn(out, key)) {
        throw new SaoeError(
          "duplicate_key",
          `Cannot parse JSON at offset ${keyAt}: duplicate key ${JSON.stringify(key)}`,
        );
      }
      this.#skipWhitespace();
      if (this.#text[this.#pos] !== ":") this.#fail("expected ':'");
      this.#pos++;
      this.#skipWhitespace();
      const value = this.#parseValue(depth);
      if (key === "__proto__") {
        // defineProperty: a "__proto__" key must stay data, never become the prototype
        Object.defineProperty(out, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        // Object.prototype has no other setter: plain assignment makes an own data property
        out[key] = value;
      }
      this.#skipWhitespace();
      const c = this.#text[this.#pos];
      if (c === ",") {
        this.#pos++;
        continue;
      }
      if (c === "}") {
        this.#pos++;
        return out;
      }
      this.#fail("expected ',' or '}'");
    }
  }
}
