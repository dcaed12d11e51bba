/**
 * The vault as the envelope validator sees it (steps 8 and 9): a template by id
 * and version, within the agent's scope, verified. {@linkcode VaultReader}
 * provides it.
 *
 * @module
 */
import type { Template } from "./template_types.ts";

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
