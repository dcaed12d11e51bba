/**
 * The identity of a home's ledger as a transparency log: its origin line, which
 * every checkpoint names and every witness keys its state by. It is derived from
 * the trust root pin, so it stays the same for the life of the home, and two
 * homes never share one.
 *
 * @module
 */

/**
 * The origin line (and log key name) of the ledger of the home whose root pin is
 * `rootPin` (64 hex).
 *
 * @example
 * ```ts
 * import { logOrigin } from "./log_identity.ts";
 * if (logOrigin("ab".repeat(32)) !== "saoe.home/abababababababababababababababab") throw new Error();
 * ```
 */
export function logOrigin(rootPin: string): string {
  if (!/^[0-9a-f]{64}$/.test(rootPin)) throw new TypeError(`Not a root pin: ${rootPin}`);
  return `saoe.home/${rootPin.slice(0, 32)}`;
}
