/**
 * Integer arithmetic on tree sizes and leaf indexes. Sizes reach 2^53 - 1, past
 * the 32 bits JavaScript's bitwise operators work on, so everything here uses
 * exact floating-point arithmetic on safe integers instead. Decides nothing and
 * trusts its callers to pass safe non-negative integers.
 *
 * @module
 */

/**
 * The largest power of two that is at most `n` (n ≥ 1).
 *
 * @example
 * ```ts
 * import { largestPowerOfTwoAtMost } from "./sizes.ts";
 * if (largestPowerOfTwoAtMost(8) !== 8 || largestPowerOfTwoAtMost(9) !== 8) throw new Error();
 * ```
 */
export function largestPowerOfTwoAtMost(n: number): number {
  let k = 2 ** Math.floor(Math.log2(n));
  // log2 may round near powers of two: correct in both directions
  while (k > n) k /= 2;
  while (k * 2 <= n) k *= 2;
  return k;
}

/**
 * The split point k of RFC 9162 section 2.1.1: the largest power of two
 * strictly below `n` (n ≥ 2).
 *
 * @example
 * ```ts
 * import { splitPoint } from "./sizes.ts";
 * if (splitPoint(8) !== 4 || splitPoint(5) !== 4 || splitPoint(2) !== 1) throw new Error();
 * ```
 */
export function splitPoint(n: number): number {
  return largestPowerOfTwoAtMost(n - 1);
}

/**
 * True when `n` (n ≥ 1) is a power of two.
 *
 * @example
 * ```ts
 * import { isPowerOfTwo } from "./sizes.ts";
 * if (!isPowerOfTwo(2 ** 52) || isPowerOfTwo(6)) throw new Error();
 * ```
 */
export function isPowerOfTwo(n: number): boolean {
  return n >= 1 && largestPowerOfTwoAtMost(n) === n;
}

/**
 * The number of set bits of `n`: how many perfect subtrees cover a tree of `n` leaves.
 *
 * @example
 * ```ts
 * import { popCount } from "./sizes.ts";
 * if (popCount(7) !== 3 || popCount(2 ** 53 - 1) !== 53) throw new Error();
 * ```
 */
export function popCount(n: number): number {
  let count = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) count += x % 2;
  return count;
}

/**
 * log2 of a power of two, exactly.
 *
 * @example
 * ```ts
 * import { log2Exact } from "./sizes.ts";
 * if (log2Exact(1) !== 0 || log2Exact(2 ** 40) !== 40) throw new Error();
 * ```
 */
export function log2Exact(powerOfTwo: number): number {
  return Math.round(Math.log2(powerOfTwo));
}
