/**
 * The safety check every queue entry passes before it is moved or read.
 *
 * Deno checks a path as written, not a symlink's target (docs/design.md section 10): a
 * symlink planted in an inbox would make the receiver read, move or delete a file
 * outside it, and a hard link is the same trick without a symlink. So an entry
 * must be a regular file (`lstat`, never `stat`) with exactly one link, under a
 * name of the form `<envelope_id>.satl`. Anything else is refused with
 * `unsafe_path`; the caller decides how to set it aside.
 *
 * @module
 */
import { basename } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";

/** File names accepted in an inbox: `<envelope_id>.satl`. */
export const ENTRY_NAME_RE = /^[0-9a-f-]{36}\.satl$/;

/** What a refused entry turned out to be, so it can be set aside without following it. */
export type EntryKind = "file" | "symlink" | "directory" | "hard_link" | "other";

/** An `unsafe_path` refusal that also says what kind of thing the entry was. */
export class UnsafeEntryError extends SaoeError {
  /** What the entry was, from `lstat`. */
  readonly kind: EntryKind;

  /** Creates the refusal for the entry at `path`. */
  constructor(kind: EntryKind, message: string, path: string) {
    super("unsafe_path", message, { file: basename(path) });
    this.name = "UnsafeEntryError";
    this.kind = kind;
  }
}

/** Classifies an `lstat` result. */
export function entryKind(info: Deno.FileInfo): EntryKind {
  if (info.isSymlink) return "symlink";
  if (info.isDirectory) return "directory";
  if (!info.isFile) return "other";
  // nlink null (a platform without link counts) fails closed as a hard link
  return info.nlink === 1 ? "file" : "hard_link";
}

/**
 * `lstat`s `path` and returns its info when it is a regular, single-link file with
 * an entry name; throws {@linkcode UnsafeEntryError} (`unsafe_path`) otherwise.
 * A missing file throws `Deno.errors.NotFound` unchanged.
 *
 * @example
 * ```ts
 * import { checkEntry } from "./entry_check.ts";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/${crypto.randomUUID()}.satl`;
 * await Deno.writeFile(path, new Uint8Array([1]));
 * const info = await checkEntry(path);
 * if (info.size !== 1) throw new Error("unexpected");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkEntry(path: string): Promise<Deno.FileInfo> {
  return checkEntryInfo(path, await Deno.lstat(path), basename(path));
}

/** The pure half of {@linkcode checkEntry}: judges an `lstat` result under the entry name `name`. */
export function checkEntryInfo(path: string, info: Deno.FileInfo, name: string): Deno.FileInfo {
  const kind = entryKind(info);
  if (kind !== "file") {
    throw new UnsafeEntryError(
      kind,
      `Cannot accept queue entry ${path}: expected a regular file with one link, found a ${
        kind.replace("_", " ")
      }`,
      path,
    );
  }
  if (!ENTRY_NAME_RE.test(name)) {
    throw new UnsafeEntryError(
      "file",
      `Cannot accept queue entry ${path}: expected a name of the form <envelope_id>.satl`,
      path,
    );
  }
  return info;
}
