/**
 * JSON trees for structure-aware mutations: enumerate the nodes of a parsed
 * document (with their depth) and serialise it back with one node replaced by raw
 * text, one object key written twice, or one field removed or added. The raw text
 * is written as is, so it may be anything: a number that overflows, a lone
 * surrogate escape, ten thousand nested brackets.
 *
 * @module
 */

/** A JSON value as `JSON.parse` returns it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A step into a JSON value: an object key or an array index. */
export type PathStep = string | number;

/** One node of a tree: its path from the top and its nesting depth (top = 0). */
export interface JsonNode {
  path: PathStep[];
  depth: number;
  value: Json;
}

/** Every node of `value`, parents before children. */
export function nodes(value: Json): JsonNode[] {
  const out: JsonNode[] = [];
  const walk = (v: Json, path: PathStep[]) => {
    out.push({ path, depth: path.length, value: v });
    if (Array.isArray(v)) v.forEach((child, i) => walk(child, [...path, i]));
    else if (v !== null && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
    }
  };
  walk(value, []);
  return out;
}

/** How to write one node differently. */
export type Edit =
  /** Write `raw` instead of the node at `path`. */
  | { kind: "raw"; path: PathStep[]; raw: string }
  /** Write key `key` of the object at `path` twice: `first` then `second` (raw JSON texts). */
  | { kind: "duplicate"; path: PathStep[]; key: string; first: string; second: string }
  /** Leave key `key` of the object at `path` out. */
  | { kind: "remove"; path: PathStep[]; key: string }
  /** Add `"key": raw` to the object at `path` (first or last). */
  | { kind: "add"; path: PathStep[]; key: string; raw: string; first: boolean };

function samePath(a: readonly PathStep[], b: readonly PathStep[]): boolean {
  return a.length === b.length && a.every((step, i) => step === b[i]);
}

/** Serialises `value` like `JSON.stringify` (compact), applying one edit. */
export function serialize(value: Json, edit?: Edit): string {
  const write = (v: Json, path: PathStep[]): string => {
    if (edit?.kind === "raw" && samePath(edit.path, path)) return edit.raw;
    if (Array.isArray(v)) return `[${v.map((c, i) => write(c, [...path, i])).join(",")}]`;
    if (v !== null && typeof v === "object") {
      const here = edit !== undefined && edit.kind !== "raw" && samePath(edit.path, path);
      const parts: string[] = [];
      for (const [k, child] of Object.entries(v)) {
        const key = JSON.stringify(k);
        if (here && edit.kind === "remove" && edit.key === k) continue;
        if (here && edit.kind === "duplicate" && edit.key === k) {
          parts.push(`${key}:${edit.first}`, `${key}:${edit.second}`);
          continue;
        }
        parts.push(`${key}:${write(child, [...path, k])}`);
      }
      if (here && edit.kind === "add") {
        const extra = `${JSON.stringify(edit.key)}:${edit.raw}`;
        if (edit.first) parts.unshift(extra);
        else parts.push(extra);
      }
      return `{${parts.join(",")}}`;
    }
    return JSON.stringify(v);
  };
  return write(value, []);
}
