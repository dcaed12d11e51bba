/**
 * Field edits for crafted envelopes: `path=value` where `path` is a dotted path
 * into the envelope payload (`session_id`, `template.sha256`, `payload.title`)
 * and `value` is JSON when it parses as JSON, else the text itself. Used before
 * signing (to sign deliberately bad fields) and after signing (to tamper with a
 * signed envelope without re-signing it).
 *
 * @module
 */
import type { JsonObject, JsonValue } from "../../primitives/json/strict_parse.ts";

/** One edit: set the field at `path` to `value`. */
export interface FieldEdit {
  /** Dotted path, e.g. `payload.title`; each segment a plain key. */
  path: string;
  value: JsonValue;
}

const SEGMENT_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Parses `path=value`; the value is JSON when it parses (`5`, `true`, `"5"`,
 * `{"a":1}`), else taken as text. Throws a `RangeError` naming the problem.
 *
 * @example
 * ```ts
 * import { parseFieldEdit } from "./field_edit.ts";
 * const edit = parseFieldEdit("payload.image_count=5");
 * if (edit.path !== "payload.image_count" || edit.value !== 5) throw new Error();
 * if (parseFieldEdit("session_id=../x").value !== "../x") throw new Error();
 * ```
 */
export function parseFieldEdit(text: string): FieldEdit {
  const at = text.indexOf("=");
  if (at <= 0) {
    throw new RangeError(
      `Invalid field edit ${JSON.stringify(text.slice(0, 80))}: expected path=value`,
    );
  }
  const path = text.slice(0, at);
  if (!path.split(".").every((s) => SEGMENT_RE.test(s))) {
    throw new RangeError(
      `Invalid field path ${
        JSON.stringify(path.slice(0, 80))
      }: expected dot-separated keys of letters, digits, _ or -`,
    );
  }
  const raw = text.slice(at + 1);
  let value: JsonValue;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    value = raw;
  }
  return { path, value };
}

/**
 * Applies `edits` to `target` in place, creating missing intermediate objects.
 * Refuses (RangeError) a path through a value that is not an object.
 *
 * @example
 * ```ts
 * import { applyFieldEdits } from "./field_edit.ts";
 * const doc = { template: { id: "a" } };
 * applyFieldEdits(doc, [{ path: "template.id", value: "../b" }]);
 * if (doc.template.id !== "../b") throw new Error();
 * ```
 */
export function applyFieldEdits(target: JsonObject, edits: readonly FieldEdit[]): void {
  for (const edit of edits) {
    const keys = edit.path.split(".");
    let node: JsonObject = target;
    for (const key of keys.slice(0, -1)) {
      const next = Object.hasOwn(node, key) ? node[key] : undefined;
      if (next === undefined) {
        const created: JsonObject = {};
        node[key] = created;
        node = created;
      } else if (next !== null && typeof next === "object" && !Array.isArray(next)) {
        node = next;
      } else {
        throw new RangeError(`Cannot set ${edit.path}: ${key} is not an object`);
      }
    }
    node[keys.at(-1)!] = edit.value;
  }
}
