/**
 * The template reference (`{id, version, sha256}`) a sender puts on an envelope,
 * read from a home's vault: the newest (or a given) version's manifest, whose
 * payload names the SHA-256 of the template's plaintext. Development tools use it
 * to craft envelopes; it parses the manifest strictly but does not verify its
 * signature (the receiving agent does, at validation step 9).
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { parseDsse } from "../../primitives/dsse/parse.ts";
import { parsePayload } from "../../primitives/dsse/verify.ts";
import { templateDir, templateManifestPath } from "../../domain/vault/layout.ts";
import { MAX_MANIFEST_BYTES } from "../../domain/vault/limits.ts";
import { decodeTemplateManifest } from "../../domain/vault/template_types.ts";
import type { EnvelopeTemplateRef } from "../../domain/validate/envelope.ts";

const MANIFEST_RE = /^([1-9][0-9]{0,9})\.manifest\.json$/;

async function newestVersion(vault: string, id: string): Promise<number> {
  let newest = 0;
  try {
    for await (const entry of Deno.readDir(templateDir(vault, id))) {
      const m = MANIFEST_RE.exec(entry.name);
      if (m !== null && entry.isFile) newest = Math.max(newest, Number(m[1]));
    }
  } catch (err: unknown) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (newest === 0) {
    throw new SaoeError(
      "vault_resolution",
      `Cannot find template ${JSON.stringify(id)} in ${vault}: no published manifest`,
      { template_id: id },
    );
  }
  return newest;
}

/**
 * Reads the reference of template `id` (its newest version unless `version` is
 * given) from the vault folder `vault`.
 *
 * @example
 * ```ts ignore
 * const ref = await templateRefFromVault("/srv/saoe/vault", "blog_article_intent");
 * console.log(ref.version, ref.sha256);
 * ```
 */
export async function templateRefFromVault(
  vault: string,
  id: string,
  version?: number,
): Promise<EnvelopeTemplateRef> {
  const v = version ?? await newestVersion(vault, id);
  const path = templateManifestPath(vault, id, v);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    throw new SaoeError(
      "vault_resolution",
      `Cannot read the manifest of template ${id}@${v}: ${path} does not exist`,
      { template_id: id },
    );
  }
  const manifest = decodeTemplateManifest(
    parsePayload(parseDsse(bytes, MAX_MANIFEST_BYTES), MAX_MANIFEST_BYTES),
    "$",
  );
  if (manifest.id !== id || manifest.version !== v) {
    throw new SaoeError(
      "vault_resolution",
      `Invalid manifest ${path}: it names ${manifest.id}@${manifest.version}`,
      { template_id: id },
    );
  }
  return { id, version: v, sha256: manifest.sha256 };
}
