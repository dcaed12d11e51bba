/**
 * The one atomic file write of SAOE (docs/design.md section 4): a temp file in the same
 * folder, written, fsynced, then renamed (or hard-linked, when an existing file
 * must never be replaced) over the final name, and the folder fsynced. A reader
 * sees the old bytes or the new bytes, never a torn file; a crash leaves at most
 * a temp file, whose dot-name every reader skips.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { SaoeError } from "../errors.ts";
import { lstatOrNull } from "./lstat_or_null.ts";

/** Prefix of the temp names {@linkcode writeFileAtomic} uses. */
export const TEMP_PREFIX = ".tmp-";

/** True for names readers must skip: temp files and anything else starting with `.`. */
export function isHiddenName(name: string): boolean {
  return name.startsWith(".");
}

/** True for a temp name of {@linkcode writeFileAtomic}. */
export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/** Fsyncs a folder so a rename inside it is durable; best effort where unsupported. */
export async function syncFolder(folder: string): Promise<void> {
  let dir: Deno.FsFile | undefined;
  try {
    dir = await Deno.open(folder, { read: true });
    await dir.sync();
  } catch (err: unknown) {
    // a missing permission is a real error; an unsupported folder sync is not
    if (err instanceof Deno.errors.NotCapable) throw err;
  } finally {
    dir?.close();
  }
}

/** Options for {@linkcode writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Mode of the new file; default 0o600. */
  mode?: number;
  /**
   * When false, an existing file at the path is a refusal (`rollback`) and is left
   * untouched: the final step is a hard link, which fails if the name exists, so
   * two writers can never both win. Default true (rename over).
   */
  overwrite?: boolean;
  /**
   * Runs after the temp file is durable and just before it becomes visible under
   * its final name (e.g. report "forwarded" so the ledger keeps causal order); a
   * rejection aborts the write and removes the temp file.
   */
  beforeCommit?: () => Promise<void>;
}

/**
 * Writes `bytes` to `path` atomically.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic_write.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.json`, new TextEncoder().encode("{}"));
 * if (await Deno.readTextFile(`${dir}/a.json`) !== "{}") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const folder = dirname(path);
  const name = basename(path);
  if (name === "" || isHiddenName(name)) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot write ${JSON.stringify(name)}: expected a visible file name`,
      { file: path },
    );
  }
  // Deno checks the path as written: a planted symlink folder would redirect the write
  const folderInfo = await lstatOrNull(folder);
  if (folderInfo === null) {
    throw new SaoeError("io_error", `Cannot write into ${folder}: the folder does not exist`, {
      file: path,
    });
  }
  if (folderInfo.isSymlink || !folderInfo.isDirectory) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot write into ${folder}: expected a real folder, not a symlink`,
      { file: path },
    );
  }
  const existing = await lstatOrNull(path);
  if (existing !== null && (existing.isSymlink || !existing.isFile)) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot write ${path}: the destination exists and is not a regular file`,
      { file: path },
    );
  }
  const overwrite = options.overwrite ?? true;
  if (existing !== null && !overwrite) {
    throw new SaoeError("rollback", `Cannot write ${path}: the file already exists`, {
      file: path,
    });
  }
  const temp = join(folder, `${TEMP_PREFIX}${crypto.randomUUID()}`);
  const file = await Deno.open(temp, { write: true, createNew: true, mode: options.mode ?? 0o600 });
  let moved = false;
  try {
    try {
      let written = 0;
      while (written < bytes.byteLength) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await options.beforeCommit?.();
    if (overwrite) {
      await Deno.rename(temp, path);
      moved = true;
    } else {
      try {
        await Deno.link(temp, path);
      } catch (err: unknown) {
        if (err instanceof Deno.errors.AlreadyExists) {
          throw new SaoeError("rollback", `Cannot write ${path}: the file already exists`, {
            file: path,
          });
        }
        throw err;
      }
    }
  } finally {
    if (!moved) await Deno.remove(temp).catch(() => {});
  }
  await syncFolder(folder);
}
