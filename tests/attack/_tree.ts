/**
 * Test helpers for `saoe attack`: running the CLI exactly as the `saoe` task
 * does, from the repository or from a patched copy of it (a "test build" with
 * one defence deliberately disabled; no flag or variable in the product can do
 * that).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (symlink-free). */
export const REPO: string = await Deno.realPath(fileURLToPath(new URL("../../", import.meta.url)));

/** What a patched copy needs to run the CLI and the pipeline. */
const COPIED_DIRS = ["cli", "core", "agents", "vault"] as const;
const COPIED_FILES = ["deno.json", "deno.lock"] as const;

/** One source edit: `from` must occur exactly once in `file`. */
export interface Patch {
  /** Path relative to the repository root. */
  file: string;
  from: string;
  to: string;
}

/** A patched copy of the repository; disposing removes it. */
export interface PatchedTree extends AsyncDisposable {
  root: string;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile) await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

/**
 * Copies the repository's runnable parts into a temp folder (node_modules is
 * linked: measured at a few ms against seconds for a copy or `deno install`)
 * and applies `patch` there.
 */
export async function patchedTree(...patches: Patch[]): Promise<PatchedTree> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-defence-off-" }));
  try {
    // agents with their own uids (as root) read the code from here
    await Deno.chmod(root, 0o755);
    for (const dir of COPIED_DIRS) await copyTree(join(REPO, dir), join(root, dir));
    for (const file of COPIED_FILES) await Deno.copyFile(join(REPO, file), join(root, file));
    await Deno.symlink(join(REPO, "node_modules"), join(root, "node_modules"));
    for (const patch of patches) {
      const path = join(root, patch.file);
      const source = await Deno.readTextFile(path);
      const count = source.split(patch.from).length - 1;
      assert.equal(
        count,
        1,
        `the patch for ${patch.file} must match exactly once (found ${count})`,
      );
      await Deno.writeTextFile(path, source.replace(patch.from, patch.to));
    }
  } catch (err: unknown) {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw err;
  }
  return {
    root,
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

/** The `deno run …` arguments of the `saoe` task in deno.json (what users run). */
async function saoeTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json")));
  const words = String(config.tasks.saoe).split(/\s+/);
  assert.equal(words[0], "deno");
  return words.slice(1);
}

/** The outcome of one CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Non-empty stdout lines. */
  lines: string[];
}

/** Runs `saoe <args>` the way the `saoe` task does, from `root` (default the repository). */
export async function runSaoe(args: string[], root = REPO): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...await saoeTaskArgs(), ...args],
    cwd: root,
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  return {
    code: out.code,
    stdout,
    stderr: new TextDecoder().decode(out.stderr),
    lines: stdout.split("\n").filter((l) => l.trim() !== ""),
  };
}
