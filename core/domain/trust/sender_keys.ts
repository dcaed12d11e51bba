/**
 * What the agent key directory says about a sender at a given time, as the
 * envelope validator asks it (step 3). {@linkcode AgentDirectory} provides it;
 * tests may provide their own built from real signed statements.
 *
 * @module
 */
import type { PublicKeyEntry } from "../../primitives/dsse/types.ts";

/** What the directory says about a sender at a given time. */
export type SenderKeys =
  /** The agent is not in the directory. */
  | { status: "unknown" }
  /** The agent is listed but has no key valid now (revoked or outside its window). */
  | { status: "revoked"; retired: readonly PublicKeyEntry[] }
  /** Keys valid now, and keys listed but outside their window (to tell `revoked_key`). */
  | { status: "ok"; current: readonly PublicKeyEntry[]; retired: readonly PublicKeyEntry[] };

/** The verified agent key directory (step 3). */
export interface SenderKeyLookup {
  /** Keys of `agent` at time `nowMs`. */
  senderKeys(agent: string, nowMs: number): SenderKeys;
}
