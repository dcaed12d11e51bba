/**
 * An in-memory {@linkcode VersionStore} for tests: same contract as the file
 * store (never lowers), nothing persisted.
 *
 * @module
 */
import type { VersionStore } from "./version_store.ts";

/**
 * Highest versions kept in a map.
 *
 * @example
 * ```ts
 * import { MemoryVersionStore } from "./version_store_memory.ts";
 * const store = new MemoryVersionStore({ root: 3 });
 * await store.raise("root", 2);
 * if (await store.highest("root") !== 3) throw new Error();
 * ```
 */
export class MemoryVersionStore implements VersionStore {
  #versions = new Map<string, number>();

  /** Starts with the given versions recorded. */
  constructor(initial: Record<string, number> = {}) {
    for (const [key, version] of Object.entries(initial)) this.#versions.set(key, version);
  }

  /** Highest version recorded for `key`, or 0. */
  highest(key: string): Promise<number> {
    return Promise.resolve(this.#versions.get(key) ?? 0);
  }

  /** Records `version` if higher than the recorded one. */
  raise(key: string, version: number): Promise<void> {
    if (!Number.isSafeInteger(version) || version < 0) {
      return Promise.reject(
        new RangeError(`Version must be a non-negative integer, got ${version}`),
      );
    }
    if (version > (this.#versions.get(key) ?? 0)) this.#versions.set(key, version);
    return Promise.resolve();
  }
}
