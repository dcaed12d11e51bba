/**
 * The capability sets in force, as the envelope validator asks for them (steps
 * 7 and 10). {@linkcode CapsetStore} provides it.
 *
 * @module
 */
import type { Capset } from "./types.ts";

/**
 * Capability sets in force. `inForce` re-checks the dispatcher signature (cached)
 * and expiry on every call: throws `capset_signature` or `expired`.
 */
export interface CapsetProvider {
  /** The verified, unexpired capability set of `agent`; throws if absent or invalid. */
  inForce(agent: string): Promise<Capset>;
}
