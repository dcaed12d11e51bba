/**
 * Typed decoders for parsed JSON: every statement payload is read through one of
 * these, so an unknown field, a missing field or a wrong type is a refusal with the
 * path of the offending value, never a silent default.
 *
 * @module
 */
import { type ReasonCode, SaoeError } from "../errors.ts";
import type { JsonValue } from "./strict_parse.ts";

/** Turns an untrusted JSON value into a typed value or throws a {@linkcode DecodeError}. */
export type Decoder<T> = (value: unknown, path: string) => T;

/** The type a decoder produces. */
export type Decoded<D> = D extends Decoder<infer T> ? T : never;

/** A refusal to decode: the path names the value, the code defaults to `parse_error`. */
export class DecodeError extends SaoeError {
  /** JSON path of the refused value, e.g. `$.calls[2].tool`. */
  readonly path: string;
  /** Creates a decode refusal for the value at `path`. */
  constructor(path: string, expected: string, code: ReasonCode = "parse_error") {
    super(code, `Invalid value at ${path}: expected ${expected}`);
    this.name = "DecodeError";
    this.path = path;
  }
}

/** A string, optionally matching `pattern` and at most `maxLength` UTF-16 units. */
export function str(
  options: { pattern?: RegExp; maxLength?: number; code?: ReasonCode; what?: string } = {},
): Decoder<string> {
  const maxLength = options.maxLength ?? 65536;
  return (value, path) => {
    if (typeof value !== "string") throw new DecodeError(path, "a string");
    if (value.length > maxLength) {
      // an over-long identifier is as malformed as one that misses the pattern
      throw new DecodeError(
        path,
        options.what ?? `a string of at most ${maxLength} characters`,
        options.code,
      );
    }
    if (options.pattern !== undefined && !options.pattern.test(value)) {
      throw new DecodeError(
        path,
        options.what ?? `a string matching ${options.pattern}`,
        options.code,
      );
    }
    return value;
  };
}

/** An integer within `[min, max]`. */
export function int(min = 0, max = Number.MAX_SAFE_INTEGER): Decoder<number> {
  return (value, path) => {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new DecodeError(path, `an integer from ${min} to ${max}`);
    }
    return value;
  };
}

/** A boolean. */
export function bool(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw new DecodeError(path, "a boolean");
  return value;
}

/** Exactly `expected`. */
export function literal<T extends string | number | boolean>(
  expected: T,
  code?: ReasonCode,
): Decoder<T> {
  return (value, path) => {
    if (value !== expected) throw new DecodeError(path, JSON.stringify(expected), code);
    return expected;
  };
}

/** An array of at most `maxItems` items, each decoded by `item`. */
export function arr<T>(item: Decoder<T>, maxItems = 1024): Decoder<T[]> {
  return (value, path) => {
    if (!Array.isArray(value) || value.length > maxItems) {
      throw new DecodeError(path, `an array of at most ${maxItems} items`);
    }
    return value.map((v, i) => item(v, `${path}[${i}]`));
  };
}

/** Any JSON value, passed through unchanged (for payloads a schema checks later). */
export function anyJson(value: unknown, path: string): JsonValue {
  if (value === undefined) throw new DecodeError(path, "a JSON value");
  return value as JsonValue;
}

/** A JSON object (any keys), passed through unchanged. */
export function anyObject(value: unknown, path: string): Record<string, JsonValue> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new DecodeError(path, "an object");
  }
  return value as Record<string, JsonValue>;
}

/** Marks a field optional in {@linkcode obj}. */
export interface Optional<T> {
  readonly optional: true;
  readonly decoder: Decoder<T>;
}

/** Declares an optional field of an {@linkcode obj} shape. */
export function optional<T>(decoder: Decoder<T>): Optional<T> {
  return { optional: true, decoder };
}

type Shape = Record<string, Decoder<unknown> | Optional<unknown>>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? never : K }[
  keyof S
];
type OptionalKeys<S extends Shape> = Exclude<keyof S, RequiredKeys<S>>;
/** The object type an {@linkcode obj} shape decodes to. */
export type ShapeType<S extends Shape> =
  & { [K in RequiredKeys<S>]: S[K] extends Decoder<infer T> ? T : never }
  & { [K in OptionalKeys<S>]?: S[K] extends Optional<infer T> ? T : never };

/**
 * An object with exactly the fields of `shape`: unknown fields are refused.
 *
 * @example
 * ```ts
 * import { int, obj, str } from "./decode.ts";
 * const point = obj({ name: str(), x: int() });
 * const p = point({ name: "a", x: 1 }, "$");
 * if (p.x !== 1) throw new Error("unexpected");
 * ```
 */
export function obj<S extends Shape>(shape: S): Decoder<ShapeType<S>> {
  const keys = Object.keys(shape);
  return (value, path) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new DecodeError(path, "an object");
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!Object.hasOwn(shape, key)) {
        throw new DecodeError(`${path}.${key}`, "no such field (unknown fields are refused)");
      }
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const field = shape[key]!;
      const present = Object.hasOwn(record, key);
      if (typeof field === "function") {
        if (!present) throw new DecodeError(`${path}.${key}`, "a required field");
        out[key] = field(record[key], `${path}.${key}`);
      } else if (present) {
        out[key] = field.decoder(record[key], `${path}.${key}`);
      }
    }
    return out as ShapeType<S>;
  };
}

/** An object with arbitrary keys matching `keyPattern`, each value decoded by `value`. */
export function record<T>(
  keyPattern: RegExp,
  value: Decoder<T>,
  maxKeys = 256,
): Decoder<Record<string, T>> {
  return (input, path) => {
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      throw new DecodeError(path, "an object");
    }
    const keys = Object.keys(input);
    if (keys.length > maxKeys) throw new DecodeError(path, `an object of at most ${maxKeys} keys`);
    const out: Record<string, T> = {};
    for (const key of keys) {
      if (!keyPattern.test(key)) {
        throw new DecodeError(`${path}.${key}`, `a key matching ${keyPattern}`);
      }
      Object.defineProperty(out, key, {
        value: value((input as Record<string, unknown>)[key], `${path}.${key}`),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
}

/** One of several string values. */
export function oneOf<const T extends string>(values: readonly T[]): Decoder<T> {
  return (value, path) => {
    if (typeof value !== "string" || !(values as readonly string[]).includes(value)) {
      throw new DecodeError(path, `one of ${values.join(", ")}`);
    }
    return value as T;
  };
}
