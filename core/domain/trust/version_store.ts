/**
 * Rollback protection: the highest version of each signed statement kind seen so
 * far is persisted, and a lower version is refused with `rollback`.
 * Implementations (file-backed, in-memory for tests) live beside this interface.
 *
 * @module
 */

/** Persists the highest version seen per key (e.g. `root`, `directory`, `capset:planner`). */
export interface VersionStore {
  /** Highest version recorded for `key`, or 0 when none. */
  highest(key: string): Promise<number>;
  /** Records `version` for `key` if it is higher than the recorded one (never lowers it). */
  raise(key: string, version: number): Promise<void>;
}
