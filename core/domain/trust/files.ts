/**
 * The trust folder on disk (docs/design.md section 4):
 *
 * ```
 * trust/root/<N>.root.json   every root version, 1..N, never rewritten
 * trust/directory.json       the agent key directory in force
 * ```
 *
 * Readers refuse anything but regular files with one link (a planted symlink
 * would make Deno read outside the folder it checked), names other than the
 * expected ones (temp names of an atomic write in progress are skipped), gaps in
 * the version sequence, and files over 1 MiB. Writers go through
 * temp + fsync + rename.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { isTempName, writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { DEFAULT_MAX_ROTATIONS } from "./chain.ts";
import { ROOT_MAX_BYTES } from "./root.ts";

/** Largest trust file (root or directory) read, in bytes. */
export const TRUST_FILE_MAX_BYTES = 1024 * 1024;

const ROOT_NAME_RE = /^([1-9][0-9]*)\.root\.json$/;
const MAX_ROOT_VERSION = 1_000_000_000;

/** `trust/root/`: the root chain folder. */
export function rootFolder(trustDir: string): string {
  return join(trustDir, "root");
}

/** `trust/root/<version>.root.json`. */
export function rootFile(trustDir: string, version: number): string {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new RangeError(`Root version must be a positive integer, got ${version}`);
  }
  return join(rootFolder(trustDir), `${version}.root.json`);
}

/** `trust/directory.json`: the agent key directory. */
export function directoryFile(trustDir: string): string {
  return join(trustDir, "directory.json");
}

async function lstatOrRefuse(path: string, what: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.lstat(path);
  } catch (err: unknown) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SaoeError("io_error", `Cannot read ${what} ${path}: ${reason}`, { file: path });
  }
}

async function assertRealFolder(path: string, what: string): Promise<void> {
  const info = await lstatOrRefuse(path, what);
  if (info.isSymlink || !info.isDirectory) {
    throw new SaoeError("unsafe_path", `Cannot read ${what} ${path}: expected a real folder`, {
      file: path,
    });
  }
}

/**
 * Reads a trust file that must be a regular, singly linked file of at most
 * `maxBytes` bytes. The opened file is checked to be the one that was lstat'ed,
 * so a swap for a symlink between the two calls is caught.
 */
export async function readTrustFile(path: string, maxBytes: number): Promise<Uint8Array> {
  const before = await lstatOrRefuse(path, "trust file");
  if (before.isSymlink || !before.isFile || (before.nlink !== null && before.nlink !== 1)) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot read trust file ${path}: expected a regular file with one link`,
      { file: path },
    );
  }
  if (before.size > maxBytes) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot read trust file ${path}: ${before.size} bytes exceeds the limit of ${maxBytes}`,
      { file: path },
    );
  }
  const file = await Deno.open(path, { read: true });
  try {
    const opened = await file.stat();
    if (!opened.isFile || opened.ino !== before.ino || opened.dev !== before.dev) {
      throw new SaoeError("unsafe_path", `Cannot read trust file ${path}: it changed while read`, {
        file: path,
      });
    }
    // sized by the file (one byte more shows growth), not by the limit: agents
    // read trust files often, and a zeroed buffer of the limit each time is waste
    const expected = Math.min(opened.size, maxBytes);
    const buffer = new Uint8Array(expected + 1);
    let length = 0;
    for (;;) {
      const n = await file.read(buffer.subarray(length));
      if (n === null) break;
      length += n;
      if (length > maxBytes) {
        throw new SaoeError(
          "size_exceeded",
          `Cannot read trust file ${path}: it grew beyond the limit of ${maxBytes} bytes`,
          { file: path },
        );
      }
      if (length > expected) {
        throw new SaoeError(
          "unsafe_path",
          `Cannot read trust file ${path}: it changed while read`,
          {
            file: path,
          },
        );
      }
    }
    return buffer.slice(0, length);
  } finally {
    file.close();
  }
}

/** Options for {@linkcode loadRootChain}. */
export interface LoadRootChainOptions {
  /** Most rotations accepted; more files is `chain_too_long` before any is read. */
  maxRotations?: number;
}

/**
 * Reads `trust/root/1.root.json` … `N.root.json` in version order.
 *
 * @example
 * ```ts
 * import { loadRootChain, writeRootFile } from "./files.ts";
 * const trust = await Deno.makeTempDir();
 * await writeRootFile(trust, 1, new TextEncoder().encode("{}"));
 * const roots = await loadRootChain(trust);
 * if (roots.length !== 1) throw new Error();
 * await Deno.remove(trust, { recursive: true });
 * ```
 */
export async function loadRootChain(
  trustDir: string,
  options: LoadRootChainOptions = {},
): Promise<Uint8Array[]> {
  const maxRotations = options.maxRotations ?? DEFAULT_MAX_ROTATIONS;
  const folder = rootFolder(trustDir);
  await assertRealFolder(trustDir, "trust folder");
  await assertRealFolder(folder, "root folder");
  const versions: number[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (isTempName(entry.name)) continue;
    const match = ROOT_NAME_RE.exec(entry.name);
    const version = match === null ? NaN : Number(match[1]);
    if (!(version <= MAX_ROOT_VERSION)) {
      throw new SaoeError(
        "unsafe_path",
        `Cannot read root folder ${folder}: unexpected entry ${
          JSON.stringify(entry.name.slice(0, 80))
        }, expected <N>.root.json`,
        { file: join(folder, entry.name) },
      );
    }
    versions.push(version);
    if (versions.length - 1 > maxRotations) {
      throw new SaoeError(
        "chain_too_long",
        `Cannot read root folder ${folder}: more than ${maxRotations} rotations`,
      );
    }
  }
  versions.sort((a, b) => a - b);
  if (versions.length === 0) {
    throw new SaoeError("io_error", `Cannot read root folder ${folder}: it holds no root`);
  }
  versions.forEach((version, i) => {
    if (version !== i + 1) {
      throw new SaoeError(
        "root_signature",
        `Cannot read root folder ${folder}: root ${i + 1} is missing (found ${version}.root.json)`,
      );
    }
  });
  const roots: Uint8Array[] = [];
  for (const version of versions) {
    roots.push(await readTrustFile(rootFile(trustDir, version), ROOT_MAX_BYTES));
  }
  return roots;
}

/**
 * Writes root `version` (atomically, creating `trust/root/`). An existing version
 * is never rewritten: roots are history, and v1's bytes are what the pin names.
 */
export async function writeRootFile(
  trustDir: string,
  version: number,
  bytes: Uint8Array,
): Promise<void> {
  const path = rootFile(trustDir, version);
  await Deno.mkdir(rootFolder(trustDir), { recursive: true });
  const exists = await Deno.lstat(path).then(() => true, () => false);
  if (exists) {
    throw new SaoeError("io_error", `Cannot write trust root ${path}: version ${version} exists`, {
      file: path,
    });
  }
  await writeFileAtomic(path, bytes);
}

/** Reads `trust/directory.json` with the same checks as a root file. */
export function readDirectoryFile(trustDir: string): Promise<Uint8Array> {
  return readTrustFile(directoryFile(trustDir), TRUST_FILE_MAX_BYTES);
}

/** Replaces `trust/directory.json` atomically. */
export async function writeDirectoryFile(trustDir: string, bytes: Uint8Array): Promise<void> {
  await Deno.mkdir(trustDir, { recursive: true });
  await writeFileAtomic(directoryFile(trustDir), bytes);
}
