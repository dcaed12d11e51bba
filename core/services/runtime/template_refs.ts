/**
 * The template references an agent puts on the envelopes it sends: for each
 * template its capset lets it send, the highest published version whose manifest
 * and plaintext hash verify in the agent's own vault scope.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { Capset } from "../../domain/capset/types.ts";
import type { VaultReader } from "../../domain/vault/reader.ts";
import { templateDir } from "../../domain/vault/layout.ts";
import type { EnvelopeTemplateRef } from "../../domain/validate/envelope.ts";

const VERSION_RE = /^([1-9][0-9]{0,9})\.manifest\.json$/;

async function highestVersion(vault: string, id: string): Promise<number> {
  let best = 0;
  for await (const entry of Deno.readDir(templateDir(vault, id))) {
    const m = VERSION_RE.exec(entry.name);
    if (m !== null) best = Math.max(best, Number(m[1]));
  }
  return best;
}

/** Resolves the reference of every template `capset` may send. */
export async function sendTemplateRefs(
  vaultDir: string,
  vault: VaultReader,
  capset: Capset,
): Promise<Map<string, EnvelopeTemplateRef>> {
  const refs = new Map<string, EnvelopeTemplateRef>();
  for (const id of new Set(capset.sends.flatMap((s) => s.templates))) {
    const version = await highestVersion(vaultDir, id).catch(() => 0);
    if (version === 0) {
      throw new SaoeError(
        "vault_resolution",
        `Cannot start agent "${capset.agent}": template "${id}" it sends is not in the vault`,
      );
    }
    const resolved = await vault.resolve(id, version, capset.vault);
    refs.set(id, { id, version, sha256: resolved.sha256 });
  }
  return refs;
}
