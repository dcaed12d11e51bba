/**
 * What the vault holds now, as the publish ceremony needs it: each agent's
 * current capability set and the highest published version of a template with
 * its plaintext, every one checked against the dispatcher keys of the verified
 * trust root before it is believed.
 *
 * Expiry is deliberately not enforced here (signatures are): publishing is how an
 * operator replaces a statement, including one that has expired, and an expired
 * statement is still authentic evidence of which version was published. A
 * statement that does not verify is a refusal: an attacker who can write the
 * vault must not be able to plant a "version 999" that blocks or steers publishing
 * without the dispatcher key.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { constantTimeEqual, fromHex, sha256 } from "../../primitives/crypto/bytes.ts";
import type { Decoder } from "../../primitives/json/decode.ts";
import { PAYLOAD_TYPES, type TrustedKeySet } from "../../primitives/dsse/types.ts";
import type { ReasonCode } from "../../primitives/errors.ts";
import { parseDsse } from "../../primitives/dsse/parse.ts";
import { expectPayloadType, parsePayload, verifySignatures } from "../../primitives/dsse/verify.ts";
import { type Capset, decodeCapset } from "../../domain/capset/types.ts";
import { decryptWith } from "../../domain/vault/age.ts";
import {
  capsetPath,
  templateCipherPath,
  templateDir,
  templateManifestPath,
} from "../../domain/vault/layout.ts";
import {
  AGE_OVERHEAD_BYTES,
  MAX_CAPSET_BYTES,
  MAX_MANIFEST_BYTES,
} from "../../domain/vault/limits.ts";
import {
  decodeTemplateManifest,
  MAX_TEMPLATE_BYTES,
  type TemplateManifest,
} from "../../domain/vault/template_types.ts";
import { readTrustFile } from "../../domain/trust/files.ts";

const VERSION_FILE_RE = /^([1-9][0-9]{0,9})\.(?:age|manifest\.json)$/;

interface DispatcherCheck<T> {
  payloadType: string;
  trusted: TrustedKeySet;
  signatureCode: ReasonCode;
  what: string;
  decode: Decoder<T>;
  maxBytes: number;
}

/** Signatures first, then the strict payload; no freshness check (see the module note). */
async function dispatcherPayload<T>(bytes: Uint8Array, check: DispatcherCheck<T>): Promise<T> {
  const env = parseDsse(bytes, check.maxBytes);
  expectPayloadType(env, check.payloadType, check.what);
  await verifySignatures(env, {
    trusted: [check.trusted],
    signatureCode: check.signatureCode,
    what: check.what,
  });
  return check.decode(parsePayload(env, check.maxBytes), "$");
}

async function readVaultFile(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  try {
    return await readTrustFile(path, maxBytes);
  } catch (err: unknown) {
    if (err instanceof SaoeError) {
      throw new SaoeError(err.code, `Cannot read ${what}: ${err.message}`, { file: path }, {
        cause: err,
      });
    }
    throw err;
  }
}

/** Options for {@linkcode readPublishedCapset}. */
export interface ReadPublishedCapsetOptions {
  vault: string;
  agent: string;
  /** An age identity the capset is encrypted to (the supervisor's). */
  identity: string;
  /** The dispatcher keys of the verified trust root. */
  dispatcher: TrustedKeySet;
}

/**
 * The capability set published for `agent`, signature-verified; `undefined`
 * when none is published.
 *
 * @example
 * ```ts
 * import { readPublishedCapset } from "./published_state.ts";
 * const vault = await Deno.makeTempDir();
 * const none = await readPublishedCapset({
 *   vault, agent: "planner", identity: "unused",
 *   dispatcher: { name: "dispatcher", keys: [], threshold: 1 },
 * });
 * if (none !== undefined) throw new Error();
 * await Deno.remove(vault);
 * ```
 */
export async function readPublishedCapset(
  options: ReadPublishedCapsetOptions,
): Promise<Capset | undefined> {
  const path = capsetPath(options.vault, options.agent);
  const present = await Deno.lstat(path).then(() => true, () => false);
  if (!present) return undefined;
  const what = `the published capability set of ${options.agent}`;
  const cipher = await readVaultFile(path, MAX_CAPSET_BYTES + AGE_OVERHEAD_BYTES, what);
  const signed = await decryptWith(options.identity, cipher);
  const capset = await dispatcherPayload(signed, {
    payloadType: PAYLOAD_TYPES.capset,
    trusted: options.dispatcher,
    signatureCode: "capset_signature",
    what,
    decode: decodeCapset,
    maxBytes: MAX_CAPSET_BYTES,
  });
  if (capset.agent !== options.agent) {
    throw new SaoeError(
      "forbidden_grant",
      `Cannot read ${what}: ${path} holds the capability set of ${JSON.stringify(capset.agent)}`,
      { agent: options.agent, file: path },
    );
  }
  return capset;
}

/** The highest published version of a template. */
export interface PublishedTemplateVersion {
  manifest: TemplateManifest;
  /** The exact plaintext bytes (hash-checked against the signed manifest). */
  plaintext: Uint8Array<ArrayBuffer>;
}

/** Options for {@linkcode readPublishedTemplate}. */
export interface ReadPublishedTemplateOptions {
  vault: string;
  id: string;
  /** Age identities to try, in order (agents that read the template). */
  identities: readonly string[];
  dispatcher: TrustedKeySet;
}

/** Highest version number among `vault/templates/<id>/*.{age,manifest.json}`, or 0. */
async function highestVersion(dir: string): Promise<number> {
  const info = await Deno.lstat(dir).catch((err: unknown) => {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  });
  if (info === undefined) return 0;
  // a planted link would make the ceremony diff against (and version-check) another folder
  if (info.isSymlink || !info.isDirectory) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot read the template folder ${dir}: not a real folder`,
      {
        file: dir,
      },
    );
  }
  let highest = 0;
  for await (const entry of Deno.readDir(dir)) {
    const m = VERSION_FILE_RE.exec(entry.name);
    if (m !== null) highest = Math.max(highest, Number(m[1]));
  }
  return highest;
}

/**
 * The highest published version of template `id` with its verified plaintext;
 * `undefined` when no version is published. Refuses a version whose manifest is
 * not dispatcher-signed, names another template or version, or whose plaintext
 * does not hash to the manifest's digest; `vault_access` when none of
 * `identities` can decrypt it.
 *
 * @example
 * ```ts
 * import { readPublishedTemplate } from "./published_state.ts";
 * const vault = await Deno.makeTempDir();
 * const none = await readPublishedTemplate({
 *   vault, id: "note", identities: [],
 *   dispatcher: { name: "dispatcher", keys: [], threshold: 1 },
 * });
 * if (none !== undefined) throw new Error();
 * await Deno.remove(vault);
 * ```
 */
export async function readPublishedTemplate(
  options: ReadPublishedTemplateOptions,
): Promise<PublishedTemplateVersion | undefined> {
  const version = await highestVersion(templateDir(options.vault, options.id));
  if (version === 0) return undefined;
  const what = `the published template ${options.id}@${version}`;
  const manifestPath = templateManifestPath(options.vault, options.id, version);
  const manifest = await dispatcherPayload(
    await readVaultFile(manifestPath, MAX_MANIFEST_BYTES, `the manifest of ${what}`),
    {
      payloadType: PAYLOAD_TYPES.templateManifest,
      trusted: options.dispatcher,
      signatureCode: "dispatcher_signature",
      what: `the manifest of ${what}`,
      decode: decodeTemplateManifest,
      maxBytes: MAX_MANIFEST_BYTES,
    },
  );
  if (manifest.id !== options.id || manifest.version !== version) {
    throw new SaoeError(
      "vault_resolution",
      `Cannot read ${what}: its manifest is for ${manifest.id}@${manifest.version}`,
      { template_id: options.id, file: manifestPath },
    );
  }
  const cipherPath = templateCipherPath(options.vault, options.id, version);
  const cipher = await readVaultFile(cipherPath, MAX_TEMPLATE_BYTES + AGE_OVERHEAD_BYTES, what);
  let plaintext: Uint8Array<ArrayBuffer> | undefined;
  for (const identity of options.identities) {
    plaintext = await decryptWith(identity, cipher).catch(() => undefined);
    if (plaintext !== undefined) break;
  }
  if (plaintext === undefined) {
    throw new SaoeError(
      "vault_access",
      `Cannot read ${what}: none of the ${options.identities.length} reader identities in the key store can decrypt ${cipherPath}`,
      { template_id: options.id, file: cipherPath },
    );
  }
  if (!constantTimeEqual(await sha256(plaintext), fromHex(manifest.sha256, "manifest digest"))) {
    throw new SaoeError(
      "template_hash_mismatch",
      `Cannot read ${what}: its bytes do not hash to the sha256 its signed manifest names`,
      { template_id: options.id, file: cipherPath },
    );
  }
  return { manifest, plaintext };
}
