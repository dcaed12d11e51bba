/**
 * Types shared by the queue's watcher, per-entry pipeline and dead-letter tools.
 *
 * @module
 */

/**
 * Where an entry came from. `inbox`: a sender's subfolder of this agent's inbox,
 * never claimed before; the validator runs every step including the replay claim,
 * and should check that the envelope's `sender` is the folder's `sender`.
 * `retry`: this agent's own `retry/` folder or a claimed entry recovered from
 * quarantine; its `envelope_id` was already claimed by this agent (step 14) before
 * a handler failed or the process died, so the validator re-runs steps 1-13 and
 * requires the claim to exist instead of refusing it as a replay. Only the agent
 * itself and the operator's CLI can write `retry/` (senders cannot).
 */
export type EntryOrigin = { kind: "inbox"; sender: string } | { kind: "retry" };

/**
 * An entry as the validator and handler see it, after it was moved into quarantine.
 * The validator must read it once with a size cap on the read itself (read at most
 * the limit plus one byte): a sender that kept a handle open could still append to
 * the file after the move, so its `lstat` size is not a bound.
 */
export interface QueuedEntry {
  /** Its current path, inside the agent's quarantine folder. */
  path: string;
  /** Its original name, `<envelope_id>.satl`. */
  name: string;
  /** Where it came from. */
  origin: EntryOrigin;
}

/** Called for each entry the watcher finds; `path` is where it lies now. */
export type EntryCallback = (path: string, origin: EntryOrigin) => Promise<void>;
