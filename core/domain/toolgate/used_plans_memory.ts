/**
 * An in-memory {@linkcode UsedPlans} for tests and single-process tools. It
 * forgets everything on exit, so production agents persist claims instead.
 *
 * @module
 */
import type { UsedPlans } from "./gate.ts";

/**
 * Claims plan ids in a set.
 *
 * @example
 * ```ts
 * import { MemoryUsedPlans } from "./used_plans_memory.ts";
 * const used = new MemoryUsedPlans();
 * if (!await used.claim("p") || await used.claim("p")) throw new Error();
 * ```
 */
export class MemoryUsedPlans implements UsedPlans {
  #claimed = new Set<string>();

  /** Returns true the first time `planId` is claimed. */
  claim(planId: string): Promise<boolean> {
    if (this.#claimed.has(planId)) return Promise.resolve(false);
    this.#claimed.add(planId);
    return Promise.resolve(true);
  }

  /** Number of plan ids claimed so far. */
  get size(): number {
    return this.#claimed.size;
  }
}
