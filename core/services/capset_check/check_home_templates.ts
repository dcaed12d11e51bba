/**
 * The templates of a real home, as `saoe capset check --home` sees them: for each
 * `vault/templates/<id>/` the highest published version, its dispatcher-signed
 * manifest verified (signature and expiry), and its plaintext decrypted with the
 * identity of an agent that holds it (templates are encrypted only to the agents
 * whose capsets name them), hashed against the manifest and decoded strictly so
 * its policy can be checked against the capset edges.
 *
 * Every problem is a finding naming the file; a template whose manifest exists
 * still counts as present (its own finding says what is wrong with it).
 *
 * @module
 */
import { verifyTemplateManifest } from "../../domain/vault/template_manifest.ts";
import { join } from "node:path";
import { constantTimeEqual, fromHex, sha256 } from "../../primitives/crypto/bytes.ts";
import { SaoeError } from "../../primitives/errors.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import { TEMPLATE_ID_RE } from "../../primitives/ids/patterns.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { readTrustFile } from "../../domain/trust/files.ts";
import { decryptWith } from "../../domain/vault/age.ts";
import { templateCipherPath, templateManifestPath } from "../../domain/vault/layout.ts";
import { AGE_OVERHEAD_BYTES, MAX_MANIFEST_BYTES } from "../../domain/vault/limits.ts";
import { MAX_TEMPLATE_BYTES, parseTemplate } from "../../domain/vault/template_types.ts";
import type { EdgePolicy } from "../../domain/capset/check.ts";
import { type FileFinding, findingFromError, NO_AGENT } from "./check_report.ts";

const MANIFEST_NAME_RE = /^([1-9][0-9]{0,9})\.manifest\.json$/;

/** Options for {@linkcode loadHomeTemplates}. */
export interface LoadHomeTemplatesOptions {
  /** The home's vault folder. */
  vault: string;
  /** Dispatcher keys of the verified trust root. */
  dispatcher: TrustedKeySet;
  clock: Clock;
  skewMs: number;
  /**
   * The age identity of an agent allowed to decrypt template `id`, or
   * `undefined` when no verified capset holds it (its policy is then not read).
   */
  identityFor(id: string): Promise<string | undefined>;
}

/** The templates found, their policies where readable, and the problems. */
export interface HomeTemplates {
  ids: Set<string>;
  policies: Map<string, EdgePolicy>;
  findings: FileFinding[];
}

async function highestVersion(dir: string): Promise<number> {
  let highest = 0;
  for await (const entry of Deno.readDir(dir)) {
    const m = MANIFEST_NAME_RE.exec(entry.name);
    if (m !== null && entry.isFile) highest = Math.max(highest, Number(m[1]));
  }
  return highest;
}

async function readPolicy(
  id: string,
  version: number,
  options: LoadHomeTemplatesOptions,
): Promise<EdgePolicy | undefined> {
  const manifestBytes = await readTrustFile(
    templateManifestPath(options.vault, id, version),
    MAX_MANIFEST_BYTES,
  );
  const manifest = await verifyTemplateManifest(manifestBytes, {
    dispatcher: options.dispatcher,
    clock: options.clock,
    skewMs: options.skewMs,
    id,
    version,
  });
  const identity = await options.identityFor(id);
  if (identity === undefined) return undefined;
  const cipherPath = templateCipherPath(options.vault, id, version);
  try {
    const plain = await decryptWith(
      identity,
      await readTrustFile(cipherPath, MAX_TEMPLATE_BYTES + AGE_OVERHEAD_BYTES),
    );
    if (!constantTimeEqual(await sha256(plain), fromHex(manifest.sha256, "manifest digest"))) {
      throw new SaoeError(
        "template_hash_mismatch",
        `Template ${id}@${version} does not hash to the sha256 its signed manifest names`,
      );
    }
    const template = parseTemplate(plain);
    if (template.id !== id || template.version !== version) {
      throw new SaoeError(
        "vault_resolution",
        `The file of template ${id}@${version} holds ${template.id}@${template.version}`,
      );
    }
    return template.policy;
  } catch (err: unknown) {
    // the problem lies in the ciphertext, not in the manifest
    throw err instanceof SaoeError ? err.withIds({ file: cipherPath }) : err;
  }
}

/**
 * Lists and verifies the published templates of a home.
 *
 * @example
 * ```ts ignore
 * const { ids, policies, findings } = await loadHomeTemplates({
 *   vault: home.vault, dispatcher: root.trusted, clock: systemClock, skewMs: 120_000,
 *   identityFor: async (id) => holderIdentity(id),
 * });
 * ```
 */
export async function loadHomeTemplates(options: LoadHomeTemplatesOptions): Promise<HomeTemplates> {
  const out: HomeTemplates = { ids: new Set(), policies: new Map(), findings: [] };
  const root = join(options.vault, "templates");
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(root));
  } catch (err: unknown) {
    out.findings.push(findingFromError(err, root, NO_AGENT));
    return out;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const dir = join(root, entry.name);
    if (!TEMPLATE_ID_RE.test(entry.name) || !entry.isDirectory || entry.isSymlink) {
      out.findings.push({
        file: dir,
        agent: NO_AGENT,
        reason: "unsafe_path",
        detail: "expected a real folder named for a template id",
      });
      continue;
    }
    const id = entry.name;
    let version: number;
    try {
      version = await highestVersion(dir);
    } catch (err: unknown) {
      out.findings.push(findingFromError(err, dir, NO_AGENT));
      continue;
    }
    if (version === 0) {
      out.findings.push({
        file: dir,
        agent: NO_AGENT,
        reason: "missing_file",
        detail: `template ${id} has no signed manifest`,
      });
      continue;
    }
    out.ids.add(id);
    try {
      const policy = await readPolicy(id, version, options);
      if (policy !== undefined) out.policies.set(id, policy);
    } catch (err: unknown) {
      const file = err instanceof SaoeError && err.ids.file !== undefined
        ? err.ids.file
        : templateManifestPath(options.vault, id, version);
      out.findings.push(findingFromError(err, file, NO_AGENT));
    }
  }
  return out;
}
