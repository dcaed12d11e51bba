/**
 * Comments and docs name files of this repository, and a reorganisation leaves
 * such names behind. This test reads every comment of the TypeScript under
 * `core/`, `agents/`, `cli/`, `scripts/` and `tests/`, and all of `docs/*.md`
 * and `README.md`, and fails listing every repository-relative path mention
 * whose file or folder does not exist, and every `{@linkcode …}` whose name no
 * TypeScript file of the repository declares.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import {
  comments,
  declaredNames,
  filesUnder,
  linkcodes,
  type Mention,
  pathMentions,
  type RepoFile,
} from "./_mentions.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CODE_DIRS = ["core", "agents", "cli", "scripts", "tests"];

/**
 * Paths of the runtime home that share a first folder with the repository
 * (`agents/`, `vault/`): the home's `agents/<agent>/{inbox,quarantine,dead,store,retry}/`
 * (and `agents/supervisor/{requests,strays}/`) and its signed or encrypted `vault/` entries
 * (core/domain/home/layout.ts, core/domain/vault/layout.ts). A mention of one
 * of those is a home path, not a stale repository path.
 */
const HOME_PATH_RE =
  /^(?:agents\/[a-zA-Z0-9_]+\/(?:inbox|quarantine|dead|store|retry|requests|strays)(?:\/[\w.-]*)*|vault\/(?:(?:tools|code)\.manifest\.json|capsets\/[a-z0-9_]+\.age|templates\/[a-z0-9_]+\/(?:[0-9]+\.(?:age|manifest\.json))?))$/;

/**
 * Folders `.gitignore` keeps out of the repository (`bench/results/`, …): a
 * mention under one names local output that a clone does not have yet.
 */
const IGNORED_FOLDERS = Deno.readTextFileSync(join(ROOT, ".gitignore"))
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => /^[\w./-]+\/$/.test(line));

function codeFiles(): RepoFile[] {
  return CODE_DIRS.flatMap((dir) => filesUnder(ROOT, dir, ".ts"));
}

function docFiles(): RepoFile[] {
  return [
    ...filesUnder(ROOT, "docs", ".md"),
    { path: "README.md", text: Deno.readTextFileSync(join(ROOT, "README.md")) },
  ];
}

const existsCache = new Map<string, boolean>();

/** Whether a mentioned path exists: a folder when it ends in `/`, else a file or a folder. */
function exists(path: string): boolean {
  let known = existsCache.get(path);
  if (known === undefined) {
    try {
      const info = statSync(join(ROOT, path));
      known = path.endsWith("/") ? info.isDirectory() : true;
    } catch {
      known = false;
    }
    existsCache.set(path, known);
  }
  return known;
}

function missing(file: string, mentions: Mention[]): string[] {
  return mentions
    .filter((m) =>
      !exists(m.path) && !HOME_PATH_RE.test(m.path.replace(/\/$/, "")) &&
      !IGNORED_FOLDERS.some((folder) => m.path.startsWith(folder))
    )
    .map((m) => `${file}:${m.line}: ${m.path}`);
}

Deno.test("every path a comment or doc names exists in the repository", () => {
  const stale: string[] = [];
  let seen = 0;
  for (const file of codeFiles()) {
    for (const comment of comments(file.text)) {
      const mentions = pathMentions(comment.text, comment.line);
      seen += mentions.length;
      stale.push(...missing(file.path, mentions));
    }
  }
  for (const file of docFiles()) {
    const mentions = pathMentions(file.text);
    seen += mentions.length;
    stale.push(...missing(file.path, mentions));
  }
  assert.ok(seen > 200, `only ${seen} path mentions found: the scan read nothing`);
  assert.deepEqual(stale, [], `paths named but not in the repository:\n${stale.join("\n")}`);
});

Deno.test("every {@linkcode …} names something the repository declares", () => {
  const files = codeFiles();
  const declared = declaredNames(files.map((f) => f.text));
  const unknown: string[] = [];
  let seen = 0;
  for (const file of files) {
    for (const comment of comments(file.text)) {
      for (const name of linkcodes(comment.text)) {
        seen++;
        const parts = name.split(/[.#]/).filter((p) => p !== "");
        if (!parts.every((p) => declared.has(p))) {
          unknown.push(`${file.path}:${comment.line}: {@linkcode ${name}}`);
        }
      }
    }
  }
  assert.ok(seen > 100, `only ${seen} {@linkcode} references found: the scan read nothing`);
  assert.deepEqual(unknown, [], `{@linkcode} names nothing declares:\n${unknown.join("\n")}`);
});

/** The section numbers `text` cites as "docs/design.md section N" (or "sections N and M"). */
function designSections(text: string): number[] {
  // comment continuation stars and line breaks are whitespace here
  const flat = text.replace(/\n[ \t]*\*?/g, " ").replace(/\s+/g, " ");
  return [...flat.matchAll(/docs\/design\.md`?,? sections? ((?:\d+(?:, | and ))*\d+)/g)]
    .flatMap((m) => m[1]!.split(/, | and /).map(Number));
}

Deno.test("every docs/design.md section a comment or doc cites exists", () => {
  const design = Deno.readTextFileSync(join(ROOT, "docs/design.md"));
  const sections = new Set([...design.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1])));
  assert.ok(sections.size >= 10, "docs/design.md has no numbered sections");
  const wrong: string[] = [];
  let seen = 0;
  const check = (where: string, text: string) => {
    for (const n of designSections(text)) {
      seen++;
      if (!sections.has(n)) wrong.push(`${where}: section ${n}`);
    }
  };
  for (const file of codeFiles()) {
    for (const comment of comments(file.text)) check(`${file.path}:${comment.line}`, comment.text);
  }
  for (const file of docFiles()) check(file.path, file.text);
  assert.ok(seen > 20, `only ${seen} citations of docs/design.md found: the scan read nothing`);
  assert.deepEqual(wrong, [], `docs/design.md has no such section:\n${wrong.join("\n")}`);
  assert.deepEqual(designSections("see docs/design.md\n * sections 1, 4 and 5"), [1, 4, 5]);
});

Deno.test("the scan finds a stale path and an unknown name, and skips what is no mention", () => {
  const text = [
    "see core/domain/ledger/ledger.ts and core/gone/old.ts, the folder core/domain/trust/",
    "not /opt/saoe/core/x.ts, not tests/core/nothing_here.ts inside a path, not cli/<verb>.ts",
    "a home path: agents/planner/store/replay.db and vault/capsets/planner.age",
    "local output .gitignore keeps out: bench/results/2026-01-01.json",
  ].join("\n");
  assert.deepEqual(missing("x.md", pathMentions(text)), [
    "x.md:1: core/gone/old.ts",
    "x.md:2: tests/core/nothing_here.ts",
  ]);
  const source = [
    'const url = "https://example.com//core/gone.ts"; // names core/gone_too.ts',
    "const re = /\\/*core\\/x/; /** {@linkcode NoSuchThing} and {@linkcode comments} */",
  ].join("\n");
  const found = comments(source);
  assert.deepEqual(found.flatMap((c) => pathMentions(c.text, c.line).map((m) => m.path)), [
    "core/gone_too.ts",
  ]);
  const declared = declaredNames([Deno.readTextFileSync(join(ROOT, "tests/docs/_mentions.ts"))]);
  assert.deepEqual(
    found.flatMap((c) => linkcodes(c.text)).filter((n) => !declared.has(n)),
    ["NoSuchThing"],
  );
});
