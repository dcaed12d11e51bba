/**
 * What the fuzz engine needs of one kind of signed statement: valid seeds, the
 * real verifier of that kind, and the rightful signer (to model a compromised
 * sender that signs whatever payload it likes with its own key).
 *
 * @module
 */

/** One kind of signed input and its real verifier. */
export interface FuzzTarget {
  /** Stable name, used in corpus file names (`<kind>-<sha256 prefix>.bin`). */
  kind: string;
  /** Valid signed documents of this kind; each must verify. */
  seeds: readonly Uint8Array[];
  /** The verifier's size cap in bytes (oversize mutations aim at it). */
  maxBytes: number;
  /**
   * True when seeds, keys and clock are fixed, so the same bytes verify the same
   * way in every run (corpus files of this kind replay exactly). Envelope targets
   * run against a fresh home with fresh keys, so they are not.
   */
  reproducible: boolean;
  /**
   * Runs the real verifier. Resolves to a JSON-comparable summary of what was
   * accepted; rejects with the verifier's refusal.
   */
  verify(bytes: Uint8Array): Promise<unknown>;
  /** Signs `payload` as this kind with the rightful key(s). */
  resign(payload: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}
