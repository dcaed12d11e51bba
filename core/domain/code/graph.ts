/**
 * The files an agent's code is made of (docs/design.md section 12): its entry,
 * every local module its static graph imports, every file of every npm package
 * that graph reaches (the package's whole folder, dependencies included), the
 * modules of the tools it runs and their graphs, and the configuration that
 * steers resolution (`deno.json`, `deno.lock`). Found with `deno info --json`
 * on this checkout, as repository-relative paths; hashing them is the code
 * manifest's job (`manifest.ts`).
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { SaoeError } from "../../primitives/errors.ts";

/** Files every agent's code depends on, whatever its graph. */
export const CONFIG_FILES = ["deno.json", "deno.lock"] as const;

interface InfoModule {
  kind?: string;
  local?: string;
  specifier?: string;
  npmPackage?: string;
}

interface InfoOutput {
  modules?: InfoModule[];
  npmPackages?: Record<string, { dependencies?: string[]; localPath?: string }>;
}

/**
 * Maps a resolved path back under the repository: a top-level entry of the
 * checkout that is a symlink (a `node_modules/` shared by copies) is resolved
 * by `deno info`, and the pin names the path as the agent loads it.
 */
async function linkedRoots(repo: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const entry of Deno.readDir(repo)) {
    if (!entry.isSymlink) continue;
    const path = join(repo, entry.name);
    out.push([await Deno.realPath(path), path]);
  }
  return out;
}

function unlink(roots: readonly [string, string][], path: string): string {
  for (const [real, linked] of roots) {
    const rel = relative(real, path);
    if (rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"))) return join(linked, rel);
  }
  return path;
}

function inside(repo: string, path: string): string {
  const rel = relative(repo, path);
  if (rel === "" || rel.startsWith("..") || rel.startsWith("/")) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot pin code: ${path} lies outside the repository ${repo}`,
      { file: path },
    );
  }
  return rel;
}

/** `DENO_DIR` and `HOME` where this process may read them: where Deno's cache is. */
function cacheEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["DENO_DIR", "HOME"]) {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") continue;
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

async function denoInfo(deno: string, repo: string, entry: string): Promise<InfoOutput> {
  const out = await new Deno.Command(deno, {
    args: ["info", "--json", entry],
    cwd: repo,
    clearEnv: true,
    env: cacheEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new SaoeError(
      "io_error",
      `Cannot pin code: deno info ${entry} failed: ${
        new TextDecoder().decode(out.stderr).slice(0, 500)
      }`,
      { file: entry },
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)) as InfoOutput;
}

async function packageFiles(repo: string, dir: string, out: Set<string>): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    // dependencies are symlinked siblings: each is pinned as its own package
    if (entry.isSymlink) continue;
    if (entry.isDirectory) await packageFiles(repo, path, out);
    else if (entry.isFile) out.add(inside(repo, path));
  }
}

/**
 * The repository-relative files of the code reached from `entries` (absolute
 * module paths), sorted.
 *
 * @example
 * ```ts ignore
 * const files = await codeFiles({ repo: "/opt/saoe", entries: ["/opt/saoe/agents/planner.ts"] });
 * ```
 */
export async function codeFiles(options: {
  repo: string;
  entries: readonly string[];
  /** The Deno executable that resolves the graph; default the running one. */
  deno?: string;
}): Promise<string[]> {
  const { repo } = options;
  const files = new Set<string>(CONFIG_FILES);
  const packages = new Set<string>();
  const roots = await linkedRoots(repo);
  let all: NonNullable<InfoOutput["npmPackages"]> = {};
  for (const entry of options.entries) {
    const info = await denoInfo(options.deno ?? Deno.execPath(), repo, entry);
    all = { ...all, ...info.npmPackages };
    for (const m of info.modules ?? []) {
      if (m.kind === "esm" || m.kind === "asserted" || m.kind === "json" || m.kind === "wasm") {
        const local = m.local ??
          (m.specifier?.startsWith("file:") ? fileURLToPath(m.specifier) : "");
        if (local !== "") files.add(inside(repo, unlink(roots, local)));
      } else if (m.kind === "npm" && m.npmPackage !== undefined) {
        packages.add(m.npmPackage);
      }
    }
  }
  // every package the graph reaches, through its dependencies
  const queue = [...packages];
  while (queue.length > 0) {
    const id = queue.pop()!;
    for (const dep of all[id]?.dependencies ?? []) {
      if (!packages.has(dep)) {
        packages.add(dep);
        queue.push(dep);
      }
    }
  }
  for (const id of [...packages].sort()) {
    const dir = all[id]?.localPath;
    if (dir === undefined) {
      throw new SaoeError(
        "io_error",
        `Cannot pin code: npm package ${id} has no folder under node_modules (run deno install)`,
      );
    }
    await packageFiles(repo, unlink(roots, dir), files);
  }
  return [...files].sort();
}
