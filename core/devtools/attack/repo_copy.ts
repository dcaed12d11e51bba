/**
 * A scratch copy of the repository, for the attacks that tamper with code on
 * disk (a tool module changed after the manifest was signed): the real
 * repository is never modified. Only what the pipeline runs is copied
 * (`agents/`, `core/`, `cli/` for the local witness, `deno.json`, `deno.lock`); `node_modules/` is linked, not
 * copied (read-only use, and 50 MB).
 *
 * @module
 */
import { join } from "node:path";

const COPIED = ["agents", "core", "cli"] as const;
const FILES = ["deno.json", "deno.lock"] as const;

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory) await copyTree(src, dst);
    else if (entry.isFile) await Deno.copyFile(src, dst);
  }
}

/**
 * Copies the runnable parts of `repo` into a new temp folder and returns its
 * real path (the caller removes it).
 */
export async function copyRepository(repo: string): Promise<string> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-attack-repo-" }));
  try {
    // agents with their own uids (a supervisor running as root) read the code from here
    await Deno.chmod(root, 0o755);
    for (const dir of COPIED) await copyTree(join(repo, dir), join(root, dir));
    for (const file of FILES) await Deno.copyFile(join(repo, file), join(root, file));
    await Deno.symlink(join(repo, "node_modules"), join(root, "node_modules"));
    return root;
  } catch (err: unknown) {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw err;
  }
}
