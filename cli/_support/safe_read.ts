/**
 * Reads a small file the CLI is about to trust (a capset, the tool manifest, a
 * status file): a regular file with one link, not a symlink, at most `maxBytes`,
 * and the same file when opened as when checked.
 *
 * Why: the CLI runs with broad read access, so a symlink planted in the home
 * (say `vault/capsets/planner.age` → `/etc/shadow`) would otherwise be followed.
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";

/** Options for {@linkcode readSmallFile}. */
export interface ReadSmallFileOptions {
  maxBytes: number;
  /** What the file is, for messages, e.g. `the capability set of "planner"`. */
  what: string;
}

/**
 * Reads `path` with the checks above; throws `io_error` (missing),
 * `unsafe_path` (not a regular single-link file, swapped) or `size_exceeded`.
 *
 * @example
 * ```ts
 * import { readSmallFile } from "./safe_read.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "hi");
 * const bytes = await readSmallFile(`${dir}/a`, { maxBytes: 10, what: "a test file" });
 * if (bytes.length !== 2) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readSmallFile(
  path: string,
  options: ReadSmallFileOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  let before: Deno.FileInfo;
  try {
    before = await Deno.lstat(path);
  } catch {
    throw new SaoeError("io_error", `Cannot read ${options.what}: ${path} does not exist`, {
      file: path,
    });
  }
  if (before.isSymlink || !before.isFile || (before.nlink ?? 1) !== 1) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot read ${options.what}: ${path} is not a regular file with one link`,
      { file: path },
    );
  }
  if (before.size > options.maxBytes) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot read ${options.what}: ${path} has ${before.size} bytes, more than ${options.maxBytes}`,
      { file: path },
    );
  }
  const file = await Deno.open(path, { read: true });
  try {
    const opened = await file.stat();
    if (opened.ino !== before.ino || opened.dev !== before.dev) {
      throw new SaoeError(
        "unsafe_path",
        `Cannot read ${options.what}: ${path} changed while read`,
        {
          file: path,
        },
      );
    }
    const buffer = new Uint8Array(options.maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = await file.read(buffer.subarray(length));
      if (n === null) break;
      length += n;
      if (length > options.maxBytes) {
        throw new SaoeError(
          "size_exceeded",
          `Cannot read ${options.what}: ${path} grew beyond ${options.maxBytes} bytes`,
          { file: path },
        );
      }
    }
    return buffer.slice(0, length);
  } finally {
    file.close();
  }
}
