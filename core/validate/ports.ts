/**
 * What the envelope validator needs from the rest of the core, as small
 * interfaces: the agent key directory, the capability sets in force and the vault.
 * The trust, capset and vault modules provide implementations; tests may provide
 * their own built from real signed statements.
 *
 * @module
 */
import type { PublicKeyEntry } from "../dsse/types.ts";
import type { Capset } from "../capset/types.ts";
import type { Template } from "../vault/template_types.ts";

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

/**
 * Capability sets in force. `inForce` re-checks the dispatcher signature (cached)
 * and expiry on every call: throws `capset_signature` or `expired`.
 */
export interface CapsetProvider {
  /** The verified, unexpired capability set of `agent`; throws if absent or invalid. */
  inForce(agent: string): Promise<Capset>;
}

/** A template whose manifest signature and plaintext hash verified. */
export interface ResolvedTemplate {
  template: Template;
  /** Lowercase hex SHA-256 of the template's plaintext bytes. */
  sha256: string;
}

/** The vault as the validator sees it (steps 8 and 9). */
export interface TemplateResolver {
  /**
   * Resolves template `id`@`version` within `scope` (the template ids the agent's
   * capset names in `vault`). Throws `vault_access` outside the scope or when the
   * agent cannot decrypt it, `vault_resolution` when absent, `dispatcher_signature`
   * when the manifest does not verify, `template_hash_mismatch` when the plaintext
   * does not hash to the manifest's digest.
   */
  resolve(id: string, version: number, scope: readonly string[]): Promise<ResolvedTemplate>;
}
