/**
 * Finds what must not lie in a folder an agent can see. Deno checks a path as
 * written, not a symlink's target: a link planted inside an allowed folder
 * would let an agent read or overwrite a file outside it, a hard link shares
 * the target's bytes the same way, and opening a FIFO blocks. An agent can make
 * hard links and FIFOs inside folders it may write (and anyone with write
 * access to the home anything), so the supervisor sweeps (`lstat`, never
 * following or opening anything) before the pipeline starts and before every
 * agent (re)start, and moves what it finds aside (`stray_sweep.ts`); the
 * agents' own per-entry `lstat` covers entries that arrive later.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { agentDir, type HomeLayout, SUPERVISOR_ID } from "../../domain/home/layout.ts";

/** Home folders an agent process may be granted access to. */
export const AGENT_VISIBLE_FOLDERS = [
  "trust",
  "vault",
  "agents",
  "uploads",
  "media",
  "output",
] as const;

/** Why an entry is refused. */
export type UnsafeKind = "symlink" | "hard_link" | "special";

/** One entry the sweep refuses. */
export interface UnsafeEntry {
  path: string;
  kind: UnsafeKind;
}

/** Options for {@linkcode findUnsafeEntries}. */
export interface FindUnsafeOptions {
  /** Stop after this many findings; default 16. */
  limit?: number;
  /** Folders to walk (inside the home); default every agent-visible folder. */
  roots?: readonly string[];
}

function classify(info: Deno.FileInfo): UnsafeKind | undefined {
  if (info.isSymlink) return "symlink";
  if (info.isDirectory) return undefined;
  if (!info.isFile) return "special";
  // a second name for the same inode: writing one rewrites the other
  if (info.nlink !== null && info.nlink > 1) return "hard_link";
  return undefined;
}

/**
 * Walks the agent-visible folders of `home` without following links and returns
 * every symlink, hard-linked file and non-regular, non-folder entry found.
 * Missing folders are skipped (the supervisor creates them).
 *
 * @example
 * ```ts
 * import { findUnsafeEntries } from "./tree_check.ts";
 * import { homeLayout } from "../../domain/home/layout.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/agents/planner/inbox`, { recursive: true });
 * await Deno.symlink("/etc/passwd", `${root}/agents/planner/inbox/x`);
 * const found = await findUnsafeEntries(homeLayout(root));
 * if (found[0]?.kind !== "symlink") throw new Error();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function findUnsafeEntries(
  home: HomeLayout,
  options: FindUnsafeOptions = {},
): Promise<UnsafeEntry[]> {
  const limit = options.limit ?? 16;
  const found: UnsafeEntry[] = [];
  const pending: string[] = [];
  for (const root of options.roots ?? AGENT_VISIBLE_FOLDERS.map((f) => home[f])) {
    pending.push(root);
  }
  // the supervisor's own folder (requests, strays) is no agent's to reach
  const own = agentDir(home, SUPERVISOR_ID);
  while (pending.length > 0 && found.length < limit) {
    const path = pending.pop()!;
    if (path === own) continue;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (err: unknown) {
      if (err instanceof Deno.errors.NotFound) continue; // removed meanwhile or not created yet
      throw err;
    }
    const kind = classify(info);
    if (kind !== undefined) {
      found.push({ path, kind });
      continue;
    }
    if (!info.isDirectory) continue;
    const names: string[] = [];
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
    // reverse so that pop() visits entries in name order (stable messages)
    for (const name of names.sort().reverse()) pending.push(join(path, name));
  }
  return found;
}

const WHAT: Record<UnsafeKind, string> = {
  symlink: "a symbolic link",
  hard_link: "a file with more than one hard link",
  special: "neither a regular file nor a folder",
};

/**
 * Throws `unsafe_path` naming the first unsafe entry and how to fix it.
 *
 * @example
 * ```ts
 * import { assertSafeTree } from "./tree_check.ts";
 * import { homeLayout } from "../../domain/home/layout.ts";
 * const root = await Deno.makeTempDir();
 * await assertSafeTree(homeLayout(root));
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function assertSafeTree(home: HomeLayout): Promise<void> {
  const found = await findUnsafeEntries(home);
  const first = found[0];
  if (first === undefined) return;
  const more = found.length > 1
    ? ` (and ${found.length - 1}${found.length >= 16 ? "+" : ""} more: ${
      found.slice(1, 4).map((f) => f.path).join(", ")
    })`
    : "";
  throw new SaoeError(
    "unsafe_path",
    `Refusing to start: ${first.path} is ${
      WHAT[first.kind]
    } inside a folder agents can reach; Deno checks paths as written, so it would let an agent reach another file. Remove it (rm ${
      JSON.stringify(first.path)
    }) and start again${more}`,
    { file: first.path },
  );
}
