/**
 * A {@linkcode VersionStore} that never reads lower than a floor: an agent's
 * own store (`agents/<agent>/store/versions.json`, a file in the home that can
 * be copied back) wrapped with the versions the supervisor read from the
 * witnessed ledger and handed over. A version below either is a `rollback`,
 * refused by the same checks that use any store (root chain, directory,
 * capability sets).
 *
 * @module
 */
import type { VersionStore } from "./version_store.ts";

/**
 * `highest` is the higher of the wrapped store's and the floor's; `raise` goes
 * to the wrapped store.
 *
 * @example
 * ```ts
 * import { FloorVersionStore } from "./version_store_floor.ts";
 * import { MemoryVersionStore } from "./version_store_memory.ts";
 * const store = new FloorVersionStore(new MemoryVersionStore({ directory: 1 }), { directory: 3 });
 * if ((await store.highest("directory")) !== 3) throw new Error();
 * ```
 */
export class FloorVersionStore implements VersionStore {
  readonly #inner: VersionStore;
  readonly #floor: Readonly<Record<string, number>>;

  /** Wraps `inner` with `floor` (versions by store key). */
  constructor(inner: VersionStore, floor: Readonly<Record<string, number>>) {
    this.#inner = inner;
    this.#floor = floor;
  }

  /** The higher of the recorded version and the floor, or 0. */
  async highest(key: string): Promise<number> {
    const floor = Object.hasOwn(this.#floor, key) ? this.#floor[key]! : 0;
    return Math.max(await this.#inner.highest(key), floor);
  }

  /** Records `version` in the wrapped store (which never lowers it). */
  raise(key: string, version: number): Promise<void> {
    return this.#inner.raise(key, version);
  }
}
