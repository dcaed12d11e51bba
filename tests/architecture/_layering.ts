/**
 * The layering rules of the code base, as a pure check over an import graph.
 *
 * `core/` has four layers, each a folder of folders; a module may import its own
 * layer or a lower one, never a higher one:
 *
 * 0. `core/primitives/`: json, crypto, dsse, time, ids, fs, web helpers, errors
 * 1. `core/domain/`: the security domain (trust, capset, vault, validate, ledger,
 *    queue, toolgate, keys, home)
 * 2. `core/services/`: what runs (runtime, supervisor, intake, viewer,
 *    deployment, ceremony, capset_check)
 * 3. `core/devtools/`: red-team and developer tooling (attack, dev, fuzz,
 *    testing), never imported by production code
 *
 * Outside `core/`: `agents/` may import layers 0–2 only; `cli/` may import any
 * of `core/`; `scripts/` anything but `tests/`; `tests/` anything. `core/` never
 * imports `agents/`, `cli/`, `scripts/` or `tests/`. And no two folders import
 * each other, directly or around a loop.
 *
 * @module
 */
import { dirname } from "node:path";
import type { ImportEdge } from "./_import_graph.ts";

/** The layers of `core/`, lowest first. */
export const CORE_LAYERS = ["primitives", "domain", "services", "devtools"] as const;

/** What each top-level folder outside `core/` may import. */
const OUTSIDE: Readonly<Record<string, (to: string) => boolean>> = {
  agents: (to) => to.startsWith("agents/") || coreLayer(to) <= 2,
  cli: (to) => to.startsWith("cli/") || to.startsWith("core/"),
  scripts: (to) => !to.startsWith("tests/"),
  tests: () => true,
};

/** The layer index of a `core/` path, or `Infinity` outside `core/`. */
export function coreLayer(path: string): number {
  const m = /^core\/([^/]+)\//.exec(path);
  if (m === null) return Infinity;
  const i = (CORE_LAYERS as readonly string[]).indexOf(m[1]!);
  return i < 0 ? Infinity : i;
}

/**
 * The folder a file counts in for the cycle check: `core/<layer>/<folder>`
 * (or `core/<layer>` for a file directly in a layer), else its directory.
 */
export function folderOf(path: string): string {
  const m = /^core\/([^/]+)\/([^/]+)\//.exec(path);
  if (m !== null) return `core/${m[1]}/${m[2]}`;
  return dirname(path);
}

/** One broken rule, for the failure message. */
export interface Violation {
  rule: "unknown_layer" | "upward" | "forbidden" | "cycle";
  detail: string;
}

function layerRule(e: ImportEdge): Violation | undefined {
  if (e.from.startsWith("core/")) {
    const from = coreLayer(e.from);
    const to = coreLayer(e.to);
    if (from === Infinity) return { rule: "unknown_layer", detail: e.from };
    if (!e.to.startsWith("core/")) {
      return { rule: "forbidden", detail: `${e.from} imports ${e.to} (core/ imports only core/)` };
    }
    if (to === Infinity) return { rule: "unknown_layer", detail: e.to };
    if (to > from) {
      return {
        rule: "upward",
        detail: `${e.from} (${CORE_LAYERS[from]}) imports ${e.to} (${CORE_LAYERS[to]})`,
      };
    }
    return undefined;
  }
  const top = e.from.split("/")[0]!;
  const allowed = OUTSIDE[top];
  if (allowed !== undefined && !allowed(e.to)) {
    return { rule: "forbidden", detail: `${e.from} imports ${e.to}` };
  }
  return undefined;
}

/** Folder-level cycles (strongly connected components of two or more folders, or a self-loop between folders is impossible by construction). */
function folderCycles(edges: readonly ImportEdge[]): Violation[] {
  const graph = new Map<string, Map<string, ImportEdge>>();
  for (const e of edges) {
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Map());
    if (!graph.get(a)!.has(b)) graph.get(a)!.set(b, e);
    if (!graph.has(b)) graph.set(b, new Map());
  }
  // Tarjan's strongly connected components
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: Violation[] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)!.keys()) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) {
        const members = new Set(component);
        const witness = component.flatMap((a) =>
          [...graph.get(a)!].filter(([b]) => members.has(b)).map(([, e]) => `${e.from} -> ${e.to}`)
        );
        out.push({
          rule: "cycle",
          detail: `${component.sort().join(" <-> ")}: ${witness.sort().join("; ")}`,
        });
      }
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/**
 * Every violation of the layering rules in `edges`.
 *
 * @example
 * ```ts
 * import { checkLayering } from "./_layering.ts";
 * const bad = checkLayering([
 *   { from: "core/primitives/json/strict_parse.ts", to: "core/domain/vault/reader.ts" },
 * ]);
 * if (bad[0]?.rule !== "upward") throw new Error();
 * ```
 */
export function checkLayering(edges: readonly ImportEdge[]): Violation[] {
  const out: Violation[] = [];
  for (const e of edges) {
    const v = layerRule(e);
    if (v !== undefined) out.push(v);
  }
  return [...out, ...folderCycles(edges)];
}
