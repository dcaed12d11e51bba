/**
 * A version store another process owns, opened read-only: readers (the CLI, the
 * key ceremonies, `saoe capset check`) check rollback against what the
 * supervisor accepted but never record anything themselves.
 *
 * @module
 */
import type { VersionStore } from "./version_store.ts";
import { FileVersionStore } from "./version_store_file.ts";

/**
 * `highest` reads the file; `raise` does nothing (a missing file reads as zeros).
 *
 * @example
 * ```ts
 * import { ReadOnlyVersionStore } from "./version_store_readonly.ts";
 * const dir = await Deno.makeTempDir();
 * const store = new ReadOnlyVersionStore(`${dir}/versions.json`);
 * await store.raise("root", 3);
 * if ((await store.highest("root")) !== 0) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ReadOnlyVersionStore implements VersionStore {
  readonly #file: FileVersionStore;

  /** Reads the version store at `path`. */
  constructor(path: string) {
    this.#file = new FileVersionStore(path);
  }

  /** Highest version recorded for `key`, or 0. */
  highest(key: string): Promise<number> {
    return this.#file.highest(key);
  }

  /** Does nothing: a reader never records what it saw. */
  raise(_key: string, _version: number): Promise<void> {
    return Promise.resolve();
  }
}
