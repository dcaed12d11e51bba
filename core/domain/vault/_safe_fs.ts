/**
 * Reading vault entries without following anything an attacker could plant.
 *
 * Deno checks a path as written, not a symlink's target, so a link planted in the
 * vault would let a read reach any file outside it: every folder and file is
 * `lstat`ed and must be a real folder, or a regular file with exactly one link
 * (a hard link is the same trick without a symlink), and its canonical path must
 * be exactly the path asked for, which catches a symlink in any folder above it,
 * including folders this process may not list (an agent may read only its own
 * entries, not `vault/` itself). The file is then opened and its handle's device
 * and inode must match the `lstat`, so swapping the entry between the check and
 * the open is caught too. Sizes are capped before reading.
 * A path the process may write is refused (`vault_writable`, docs/design.md
 * section 10): it must not trust what it could have written itself.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";

/** Maps a file-system error to a refusal: absent, not permitted, or an I/O failure. */
export function fsRefusal(err: unknown, path: string, what: string): SaoeError {
  if (err instanceof SaoeError) return err;
  if (err instanceof Deno.errors.NotFound) {
    return new SaoeError("vault_resolution", `Cannot resolve ${what}: ${path} does not exist`, {
      file: path,
    });
  }
  if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
    return new SaoeError(
      "vault_access",
      `Cannot read ${what}: ${path} is outside this process's read access`,
      {
        file: path,
      },
    );
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new SaoeError("io_error", `Cannot read ${what} at ${path}: ${reason}`, { file: path });
}

/** Throws `vault_writable` when this process holds write permission on `path`. */
export function refuseWritable(path: string, what: string): void {
  if (Deno.permissions.querySync({ name: "write", path }).state === "granted") {
    throw new SaoeError(
      "vault_writable",
      `Cannot trust ${what} at ${path}: this process may write it (run readers with read-only access to the vault)`,
      { file: path },
    );
  }
}

/** Throws `unsafe_path` unless `path` (absolute, normalised) resolves to itself. */
async function checkCanonical(path: string, what: string): Promise<void> {
  const real = await Deno.realPath(path);
  if (real !== path) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot use ${what}: ${path} resolves to ${real} (a symlink lies on the way)`,
      { file: path },
    );
  }
}

/**
 * Throws `unsafe_path` unless `path` is a real folder reached without any symlink;
 * maps fs errors (absent: `vault_resolution`, not readable: `vault_access`).
 */
export async function checkRealDir(path: string, what: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
    if (info.isSymlink || !info.isDirectory) {
      throw new SaoeError("unsafe_path", `Cannot use ${what}: ${path} is not a real folder`, {
        file: path,
      });
    }
    await checkCanonical(path, what);
  } catch (err: unknown) {
    throw fsRefusal(err, path, what);
  }
}

function checkRegular(info: Deno.FileInfo, path: string, what: string): void {
  // a planted symlink or hard link would bypass Deno's path check: refuse both
  if (info.isSymlink || !info.isFile || (info.nlink !== null && info.nlink !== 1)) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot read ${what}: ${path} is not a regular file with one link`,
      { file: path },
    );
  }
}

/** Options for {@linkcode readRegularFile}. */
export interface SafeReadOptions {
  /** Largest accepted file size in bytes. */
  maxBytes: number;
  /** What the file is, for messages. */
  what: string;
}

/**
 * Reads a regular, single-link, non-symlink file of at most `maxBytes`, refusing
 * it if it was swapped between the check and the open.
 */
export async function readRegularFile(
  path: string,
  options: SafeReadOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  refuseWritable(path, options.what);
  let before: Deno.FileInfo;
  let handle: Deno.FsFile;
  try {
    before = await Deno.lstat(path);
    checkRegular(before, path, options.what);
    await checkCanonical(path, options.what);
    handle = await Deno.open(path, { read: true });
  } catch (err: unknown) {
    throw fsRefusal(err, path, options.what);
  }
  try {
    const after = await handle.stat();
    checkRegular(after, path, options.what);
    if (after.ino !== before.ino || after.dev !== before.dev) {
      throw new SaoeError(
        "unsafe_path",
        `Cannot read ${options.what}: ${path} changed while opening`,
        {
          file: path,
        },
      );
    }
    if (after.size > options.maxBytes) {
      throw new SaoeError(
        "size_exceeded",
        `Cannot read ${options.what}: ${path} has ${after.size} bytes, more than the limit of ${options.maxBytes}`,
        { file: path },
      );
    }
    const out = new Uint8Array(after.size);
    let at = 0;
    while (at < out.byteLength) {
      const n = await handle.read(out.subarray(at));
      if (n === null) break;
      at += n;
    }
    // a file that grew after the stat is refused rather than read in part
    if (at !== out.byteLength || (await handle.read(new Uint8Array(1))) !== null) {
      throw new SaoeError(
        "unsafe_path",
        `Cannot read ${options.what}: ${path} changed while reading`,
        {
          file: path,
        },
      );
    }
    return out;
  } catch (err: unknown) {
    throw fsRefusal(err, path, options.what);
  } finally {
    handle.close();
  }
}
