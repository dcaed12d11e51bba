/**
 * What `comment_paths_test.ts` reads out of the repository: the comments of a
 * TypeScript source (a small lexer that knows strings, template literals and
 * regular expression literals, so `"http://x"` or `/\/*x/` is not taken for a
 * comment), the repository-relative path mentions in a text, the
 * `{@linkcode …}` references of a comment, and the names the repository's
 * TypeScript declares.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** One comment: its text (without `//`, `/*`, `*\/`) and the line it starts on. */
export interface Comment {
  line: number;
  text: string;
}

// after one of these (or at the start) a `/` starts a regular expression, not a division
const REGEX_AFTER = new Set([..."(,=:[!&|?{};+-*%<>~^"]);
const REGEX_AFTER_WORDS = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "yield",
  "await",
]);
const IDENT_RE = /[A-Za-z0-9_$]/;

/**
 * The comments of a TypeScript source, in order.
 *
 * @example
 * ```ts
 * import { comments } from "./_mentions.ts";
 * const found = comments('const u = "http://x"; // one\nconst r = /[/]/g; const d = 4 / 2; // two');
 * if (found.map((c) => c.text.trim()).join("|") !== "one|two") throw new Error();
 * ```
 */
export function comments(source: string): Comment[] {
  const out: Comment[] = [];
  const n = source.length;
  let i = 0;
  let line = 1;
  let inTemplate = false;
  // brace depth to return to when a template's `${…}` closes
  const templates: number[] = [];
  let depth = 0;
  let prev = "";
  let prevWord = "";
  const skipLine = (from: number): number => {
    const end = source.indexOf("\n", from);
    return end === -1 ? n : end;
  };
  while (i < n) {
    const c = source[i]!;
    if (inTemplate) {
      if (c === "\\") {
        if (source[i + 1] === "\n") line++;
        i += 2;
      } else if (c === "`") {
        inTemplate = false;
        prev = "`";
        i++;
      } else if (c === "$" && source[i + 1] === "{") {
        templates.push(depth);
        depth = 0;
        inTemplate = false;
        prev = "{";
        i += 2;
      } else {
        if (c === "\n") line++;
        i++;
      }
      continue;
    }
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "/") {
      const end = skipLine(i);
      out.push({ line, text: source.slice(i + 2, end) });
      i = end;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const close = source.indexOf("*/", i + 2);
      const end = close === -1 ? n : close;
      const text = source.slice(i + 2, end);
      out.push({ line, text });
      for (const ch of text) if (ch === "\n") line++;
      i = end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && source[j] !== c && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      i = j + 1;
      prev = c;
      continue;
    }
    if (c === "`") {
      inTemplate = true;
      i++;
      continue;
    }
    if (c === "/" && (prev === "" || REGEX_AFTER.has(prev) || REGEX_AFTER_WORDS.has(prevWord))) {
      let j = i + 1;
      let inClass = false;
      while (j < n && source[j] !== "\n") {
        const ch = source[j]!;
        if (ch === "\\") {
          j += 2;
          continue;
        }
        if (ch === "[") inClass = true;
        else if (ch === "]") inClass = false;
        else if (ch === "/" && !inClass) break;
        j++;
      }
      i = j + 1;
      while (i < n && /[a-z]/.test(source[i]!)) i++;
      prev = "/";
      prevWord = "";
      continue;
    }
    if (IDENT_RE.test(c)) {
      let j = i;
      while (j < n && IDENT_RE.test(source[j]!)) j++;
      prevWord = source.slice(i, j);
      prev = "a";
      i = j;
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") {
      if (depth === 0 && templates.length > 0) {
        depth = templates.pop()!;
        inTemplate = true;
        i++;
        continue;
      }
      depth--;
    }
    prev = c;
    prevWord = "";
    i++;
  }
  return out;
}

/** The top-level folders of the repository a path mention may start with. */
export const MENTION_ROOTS = [
  "core",
  "agents",
  "cli",
  "scripts",
  "tests",
  "docs",
  "vault",
  "tools",
  "bench",
] as const;

// a root folder, not preceded by a path character (so neither `/opt/saoe/core/…`
// nor the `core/` inside `tests/core/…` starts a mention), then the path's characters
const MENTION_RE = new RegExp(
  `(?<![\\w./@:~$-])(?:${MENTION_ROOTS.join("|")})/[\\w./<>*{}-]*`,
  "g",
);

/** One path mention: the path as written (trailing sentence dots removed) and its line. */
export interface Mention {
  line: number;
  path: string;
}

/**
 * The repository-relative paths a text mentions. Placeholders (`<agent>`) and
 * globs (`*`, `{a,b}`) are skipped: they name no one file.
 *
 * @example
 * ```ts
 * import { pathMentions } from "./_mentions.ts";
 * const found = pathMentions("see `core/domain/home/layout.ts`, /opt/saoe/core/y.ts and cli/<verb>.ts.");
 * if (found.map((m) => m.path).join() !== "core/domain/home/layout.ts") throw new Error();
 * ```
 */
export function pathMentions(text: string, firstLine = 1): Mention[] {
  const out: Mention[] = [];
  for (const match of text.matchAll(MENTION_RE)) {
    const path = match[0].replace(/\.+$/, "");
    if (/[<>*{}]/.test(path)) continue;
    let line = firstLine;
    for (let k = 0; k < match.index; k++) if (text[k] === "\n") line++;
    out.push({ line, path });
  }
  return out;
}

/**
 * The names of the `{@linkcode …}` (or `{@link …}`) references of a text; a
 * `Name.member` reference is kept whole.
 *
 * @example
 * ```ts
 * import { linkcodes } from "./_mentions.ts";
 * const found = linkcodes("a {@linkcode Ledger.append} and {@link comments | the lexer}");
 * if (found.join() !== "Ledger.append,comments") throw new Error();
 * ```
 */
export function linkcodes(text: string): string[] {
  return [...text.matchAll(/\{@link(?:code|plain)?\s+([A-Za-z_$][\w$.#]*)/g)].map((m) => m[1]!);
}

const DECLARATION_RES = [
  // function f, class C, interface I, type T, const/let/var x, enum E, namespace N
  /\b(?:function\*?|class|interface|type|const|let|var|enum|namespace)\s+([A-Za-z_$][\w$]*)/g,
  // a method, property, accessor or field at the start of a line (classes, interfaces, objects)
  /^[ \t]*(?:(?:export|public|private|protected|static|readonly|async|override|abstract|declare|get|set)\s+)*\*?#?([A-Za-z_$][\w$]*)\s*[?!]?\s*[(<:=]/gm,
  // destructured bindings: const { a, b: c } = …
  /\b(?:const|let|var)\s+\{([^}]*)\}/g,
  // import { a, b as c } and export { a } from
  /\b(?:import|export)\s+(?:type\s+)?\{([^}]*)\}/g,
  // import x from, import * as x from
  /\bimport\s+(?:type\s+)?(?:\*\s+as\s+)?([A-Za-z_$][\w$]*)\s+from\b/g,
];

/**
 * Every name the given TypeScript sources declare or import.
 *
 * @example
 * ```ts
 * import { declaredNames } from "./_mentions.ts";
 * const names = declaredNames(["export class Ledger {\n  append(x: number): void {}\n}"]);
 * if (!names.has("Ledger") || !names.has("append")) throw new Error();
 * ```
 */
export function declaredNames(sources: Iterable<string>): Set<string> {
  const names = new Set<string>();
  for (const source of sources) {
    for (const re of DECLARATION_RES) {
      for (const match of source.matchAll(re)) {
        for (const part of match[1]!.split(",")) {
          // `a`, `type a`, `a as b`, `a: b` (destructuring): every identifier is a name in scope
          for (const word of part.matchAll(/[A-Za-z_$][\w$]*/g)) names.add(word[0]);
        }
      }
    }
  }
  return names;
}

/** A file of the repository: its repository-relative path and its text. */
export interface RepoFile {
  path: string;
  text: string;
}

/** The files under `dir` (repository-relative) whose names end in `suffix`, recursively. */
export function filesUnder(root: string, dir: string, suffix: string): RepoFile[] {
  const out: RepoFile[] = [];
  let entries;
  try {
    entries = readdirSync(join(root, dir), { recursive: true, withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(suffix)) continue;
    const full = join(entry.parentPath, entry.name);
    const path = relative(root, full);
    if (path.split("/").includes("node_modules")) continue;
    out.push({ path, text: readFileSync(full, "utf8") });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
