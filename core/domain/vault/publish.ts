/**
 * The operator side of the vault (`saoe init`, `saoe publish`): encrypt templates
 * and capability sets to exactly the agents that may read them, and sign each
 * template's manifest with the dispatcher keys. Only code holding write access to
 * the vault runs this; agents never do.
 *
 * Nothing in plaintext is written into the vault: templates and capsets are
 * stored as age ciphertext, the manifest carries only the id, version, digest and
 * validity window. Every write is atomic, and a template version is never
 * overwritten: versions only increase.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { parseDsse } from "../../primitives/dsse/parse.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { expectPayloadType } from "../../primitives/dsse/verify.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { encryptTo } from "./age.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { MAX_CAPSET_BYTES } from "./limits.ts";
import { capsetPath, templateCipherPath, templateDir, templateManifestPath } from "./layout.ts";
import { parseTemplate, type TemplateManifest } from "./template_types.ts";

/** Options for {@linkcode publishTemplate}. */
export interface PublishTemplateOptions {
  /** The vault folder (`<home>/vault`). */
  vault: string;
  /** The template's exact plaintext JSON bytes, as reviewed. */
  templateBytes: Uint8Array<ArrayBuffer>;
  /** age recipients of exactly the agents whose capsets name this template. */
  recipients: readonly string[];
  /** Dispatcher keys that sign the manifest. */
  signers: readonly SigningKey[];
  /** Issue time of the manifest, epoch milliseconds. */
  issuedAt: number;
  /** How long the manifest is valid, in milliseconds. */
  validForMs: number;
}

/** What {@linkcode publishTemplate} wrote. */
export interface PublishedTemplate {
  /** The signed manifest payload. */
  manifest: TemplateManifest;
  /** Path of the age ciphertext. */
  cipherPath: string;
  /** Path of the signed manifest. */
  manifestPath: string;
}

/** Options for {@linkcode publishCapset}. */
export interface PublishCapsetOptions {
  /** The vault folder (`<home>/vault`). */
  vault: string;
  /** The agent the capset belongs to. */
  agent: string;
  /** The dispatcher-signed capset (DSSE bytes), exactly as signed. */
  signedCapsetBytes: Uint8Array;
  /** age recipients allowed to read it (the agent, and the supervisor). */
  recipients: readonly string[];
}

const VERSION_FILE_RE = /^([1-9][0-9]{0,9})\.(?:age|manifest\.json)$/;

/** Creates `path` (and parents) if missing; refuses a symlink or non-folder (a planted link would redirect writes). */
async function ensureRealDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  const info = await Deno.lstat(path);
  if (info.isSymlink || !info.isDirectory) {
    throw new SaoeError("unsafe_path", `Cannot publish into ${path}: it is not a real folder`, {
      file: path,
    });
  }
}

async function ensureVaultDirs(vault: string, sub: string): Promise<void> {
  await ensureRealDir(vault);
  await ensureRealDir(join(vault, sub));
}

async function highestPublished(dir: string): Promise<number> {
  let highest = 0;
  for await (const entry of Deno.readDir(dir)) {
    const m = VERSION_FILE_RE.exec(entry.name);
    if (m !== null) highest = Math.max(highest, Number(m[1]));
  }
  return highest;
}

/**
 * Publishes one template version: checks the plaintext strictly, encrypts it to
 * `recipients`, and writes the ciphertext and the dispatcher-signed manifest
 * `{id, version, sha256, issued_at, expires_at}`. Refuses (`rollback`) a version
 * not higher than every version already in the vault.
 *
 * @example
 * ```ts
 * import { publishTemplate } from "./publish.ts";
 * import { generateAgeIdentity } from "./age.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const vault = await Deno.makeTempDir();
 * const agent = await generateAgeIdentity();
 * const bytes = new TextEncoder().encode(JSON.stringify({
 *   id: "note", version: 1, description: "A note", schema: { type: "object" },
 *   policy: { allowed_senders: ["planner"], allowed_receivers: ["deployment"], max_payload_bytes: 1024 },
 * }));
 * const out = await publishTemplate({
 *   vault, templateBytes: bytes, recipients: [agent.recipient],
 *   signers: [await SigningKey.fromSeed(generateSeed())], issuedAt: Date.now(), validForMs: 60_000,
 * });
 * if (out.manifest.version !== 1) throw new Error();
 * await Deno.remove(vault, { recursive: true });
 * ```
 */
export async function publishTemplate(options: PublishTemplateOptions): Promise<PublishedTemplate> {
  const template = parseTemplate(options.templateBytes);
  const ids = { template_id: template.id };
  if (options.signers.length === 0) {
    throw new SaoeError(
      "bad_config",
      `Cannot publish template ${template.id}: no dispatcher signer`,
      ids,
    );
  }
  if (!Number.isSafeInteger(options.validForMs) || options.validForMs <= 0) {
    throw new SaoeError(
      "bad_config",
      `Cannot publish template ${template.id}: validity ${options.validForMs} ms is not a positive integer`,
      ids,
    );
  }
  const cipherPath = templateCipherPath(options.vault, template.id, template.version);
  const manifestPath = templateManifestPath(options.vault, template.id, template.version);
  const dir = templateDir(options.vault, template.id);
  await ensureVaultDirs(options.vault, "templates");
  await ensureRealDir(dir);
  const highest = await highestPublished(dir);
  if (template.version <= highest) {
    throw new SaoeError(
      "rollback",
      `Cannot publish template ${template.id} version ${template.version}: version ${highest} is already published and versions must increase`,
      ids,
    );
  }
  const manifest: TemplateManifest = {
    id: template.id,
    version: template.version,
    sha256: await sha256Hex(options.templateBytes),
    issued_at: formatTimestamp(options.issuedAt),
    expires_at: formatTimestamp(options.issuedAt + options.validForMs),
  };
  const ciphertext = await encryptTo(options.recipients, options.templateBytes);
  const signed = await signStatement({
    payloadType: PAYLOAD_TYPES.templateManifest,
    payload: { ...manifest },
    signers: options.signers,
  });
  // ciphertext first: a manifest never points at a template that is not there yet
  await writeFileAtomic(cipherPath, ciphertext, { overwrite: false });
  await writeFileAtomic(manifestPath, signed, { overwrite: false });
  return { manifest, cipherPath, manifestPath };
}

/**
 * Publishes an agent's signed capability set, encrypted to `recipients`. The bytes
 * must be a DSSE capset statement (verification is the capset module's job);
 * a newer capset replaces the older one atomically.
 *
 * @example
 * ```ts
 * import { publishCapset } from "./publish.ts";
 * import { generateAgeIdentity } from "./age.ts";
 * import { signStatement } from "../../primitives/dsse/sign.ts";
 * import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const vault = await Deno.makeTempDir();
 * const agent = await generateAgeIdentity();
 * const signed = await signStatement({
 *   payloadType: PAYLOAD_TYPES.capset, payload: { agent: "planner" },
 *   signers: [await SigningKey.fromSeed(generateSeed())],
 * });
 * const path = await publishCapset({ vault, agent: "planner", signedCapsetBytes: signed, recipients: [agent.recipient] });
 * if (!path.endsWith("planner.age")) throw new Error();
 * await Deno.remove(vault, { recursive: true });
 * ```
 */
export async function publishCapset(options: PublishCapsetOptions): Promise<string> {
  const path = capsetPath(options.vault, options.agent);
  const env = parseDsse(options.signedCapsetBytes, MAX_CAPSET_BYTES);
  expectPayloadType(
    env,
    PAYLOAD_TYPES.capset,
    `capability set for ${JSON.stringify(options.agent)}`,
  );
  const ciphertext = await encryptTo(options.recipients, options.signedCapsetBytes);
  await ensureVaultDirs(options.vault, "capsets");
  await writeFileAtomic(path, ciphertext, { overwrite: true });
  return path;
}
