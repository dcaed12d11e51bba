/**
 * A small seeded pseudo-random generator (mulberry32) so a fuzz run is a pure
 * function of its seed: the same seed and iteration count produce the same
 * inputs, and a failure report's seed reproduces it exactly.
 *
 * @module
 */

/** A deterministic random source. */
export class Prng {
  #state: number;

  /** Starts the sequence of `seed` (any 32-bit unsigned integer). */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in `[0, n)`; `n` must be at least 1. */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`Prng.int(${n}): n must be >= 1`);
    return this.nextU32() % n;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.nextU32() / 0x1_0000_0000 < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new RangeError("Prng.pick(): empty array");
    return item;
  }
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The seed of iteration `iteration` of a run seeded with `runSeed`: both are
 * mixed with a full avalanche, so nearby run seeds give unrelated iterations.
 */
export function iterationSeed(runSeed: number, iteration: number): number {
  return fmix32(fmix32(runSeed ^ 0x9e3779b9) ^ fmix32(iteration + 0x7f4a7c15));
}
