/**
 * Reading and creating files in the shared session folders (`uploads/`, `media/`,
 * `output/`) without following anything an attacker could plant there.
 *
 * Deno checks a path as written, not a symlink's target: a link planted in an
 * allowed folder would read or overwrite files outside it, and a hard link would
 * make a file outside the folder readable through it. So every read `lstat`s the
 * name (a regular file with one link, within a size cap), opens it, and checks
 * with `fstat` that the opened file is the very one inspected (same device and
 * inode), which closes the window between the check and the open. Every folder
 * used is checked to be a real folder, not a symlink.
 *
 * @module
 */
import { SHARED_DIR_MODE } from "../../domain/home/layout.ts";
import { SaoeError } from "../../primitives/errors.ts";
import { lstatOrNull } from "../../primitives/fs/lstat_or_null.ts";

function refuseKind(path: string, info: Deno.FileInfo): never {
  const kind = info.isSymlink ? "a symlink" : info.isDirectory ? "a folder" : "not a regular file";
  throw new SaoeError(
    "unsafe_path",
    `Cannot read ${path}: expected a regular file with one link, found ${kind}`,
    { file: path },
  );
}

function checkInfo(path: string, info: Deno.FileInfo, maxBytes: number): void {
  if (info.isSymlink || !info.isFile) refuseKind(path, info);
  // a second link means the same bytes are reachable from outside this folder
  if (info.nlink !== null && info.nlink !== 1) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot read ${path}: expected a regular file with one link, found ${info.nlink} links`,
      { file: path },
    );
  }
  if (info.size > maxBytes) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot read ${path}: ${info.size} bytes exceeds the limit of ${maxBytes}`,
      { file: path },
    );
  }
}

/**
 * Reads a regular, singly linked file of at most `maxBytes`; refuses a symlink,
 * a hard link, a folder or a device (`unsafe_path`), a bigger file
 * (`size_exceeded`) and a file swapped between the check and the open
 * (`unsafe_path`). A missing file is `io_error`.
 *
 * @example
 * ```ts
 * import { readRegularFile } from "./safe_file.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "hi");
 * await Deno.link(`${dir}/a`, `${dir}/b`);
 * try {
 *   await readRegularFile(`${dir}/a`, 1024);
 *   throw new Error("a hard-linked file was read");
 * } catch (err: unknown) {
 *   if ((err as { code?: string }).code !== "unsafe_path") throw err;
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readRegularFile(
  path: string,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  return (await readRegularFileInfo(path, maxBytes)).bytes;
}

/** A file read by {@linkcode readRegularFileInfo}. */
export interface ReadFile {
  bytes: Uint8Array<ArrayBuffer>;
  /** The opened file's `fstat`, unchanged from before the read to after it. */
  info: Deno.FileInfo;
}

function sameState(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size &&
    a.mtime?.getTime() === b.mtime?.getTime() && a.ctime?.getTime() === b.ctime?.getTime();
}

/**
 * {@linkcode readRegularFile}, also returning the opened file's `fstat`; the
 * file's size, modification and change times must be the same after the read
 * as before it (else `io_error`), so the bytes are those of the state `info`
 * describes (a cache keyed by that state may stand for them).
 *
 * @example
 * ```ts
 * import { readRegularFileInfo } from "./safe_file.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "hi");
 * const { bytes, info } = await readRegularFileInfo(`${dir}/a`, 1024);
 * if (bytes.byteLength !== 2 || info.size !== 2) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readRegularFileInfo(path: string, maxBytes: number): Promise<ReadFile> {
  const before = await lstatOrNull(path);
  if (before === null) {
    throw new SaoeError("io_error", `Cannot read ${path}: no such file`, { file: path });
  }
  checkInfo(path, before, maxBytes);
  const file = await Deno.open(path, { read: true });
  try {
    const opened = await file.stat();
    checkInfo(path, opened, maxBytes);
    if (opened.dev !== before.dev || opened.ino !== before.ino) {
      throw new SaoeError(
        "unsafe_path",
        `Cannot read ${path}: the file was replaced while it was being opened`,
        { file: path },
      );
    }
    const bytes = new Uint8Array(opened.size);
    let at = 0;
    while (at < bytes.byteLength) {
      const n = await file.read(bytes.subarray(at));
      if (n === null) break;
      at += n;
    }
    // a file written to while it was read (grown, shrunk or rewritten in place) is refused
    if (at !== bytes.byteLength || !sameState(opened, await file.stat())) {
      throw new SaoeError("io_error", `Cannot read ${path}: the file changed while it was read`, {
        file: path,
      });
    }
    return { bytes, info: opened };
  } finally {
    file.close();
  }
}

/**
 * Creates `path` as a folder if it is missing (its parent must exist) and checks
 * that it is a real folder, not a symlink or a file (`unsafe_path`).
 *
 * @example
 * ```ts
 * import { ensureRealFolder } from "./safe_file.ts";
 * const dir = await Deno.makeTempDir();
 * await ensureRealFolder(`${dir}/session`);
 * await ensureRealFolder(`${dir}/session`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function ensureRealFolder(path: string): Promise<void> {
  try {
    await Deno.mkdir(path, { mode: SHARED_DIR_MODE });
  } catch (err: unknown) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  await assertRealFolder(path);
}

/**
 * Checks that `path` is a real folder, not a symlink (`unsafe_path`); a missing
 * folder is `io_error`.
 *
 * @example
 * ```ts
 * import { assertRealFolder } from "./safe_file.ts";
 * const dir = await Deno.makeTempDir();
 * await assertRealFolder(dir);
 * await Deno.remove(dir);
 * ```
 */
export async function assertRealFolder(path: string): Promise<void> {
  const info = await lstatOrNull(path);
  if (info === null) {
    throw new SaoeError("io_error", `Cannot use folder ${path}: it does not exist`, { file: path });
  }
  if (info.isSymlink || !info.isDirectory) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot use folder ${path}: expected a real folder, not a symlink or a file`,
      { file: path },
    );
  }
}

/** True when something (anything, even a dangling symlink) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  return await lstatOrNull(path) !== null;
}
