/**
 * The agent side of the vault: resolve a template this agent may use, verify it,
 * and keep it in memory; read this agent's encrypted capability set.
 *
 * Trust comes only from the dispatcher's signatures and this agent's age identity,
 * never from the files being where they are: a template resolves when its id is in
 * the agent's scope (checked before any file is touched), both its ciphertext and
 * its manifest are regular files, the agent can decrypt it, the manifest is signed
 * by the dispatcher, names the requested id and version and is fresh, and the
 * plaintext hashes to the manifest's digest and decodes strictly. Only then is the
 * template cached (in memory, never on disk); a cache hit re-checks the manifest's
 * expiry. A process that may write the vault refuses to open it
 * (`vault_writable`, docs/design.md section 10).
 *
 * @module
 */
import { isAbsolute, normalize } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { constantTimeEqual, fromHex, sha256 } from "../../primitives/crypto/bytes.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { checkValidity, type Validity } from "../../primitives/time/timestamp.ts";
import type { ResolvedTemplate, TemplateResolver } from "./resolver.ts";
import { decryptWith, recipientOf } from "./age.ts";
import { checkRealDir, readRegularFile, refuseWritable } from "./_safe_fs.ts";
import { capsetPath, templateCipherPath, templateDir, templateManifestPath } from "./layout.ts";
import { MAX_TEMPLATE_BYTES, parseTemplate, type Template } from "./template_types.ts";
import { verifyTemplateManifest } from "./template_manifest.ts";
import { AGE_OVERHEAD_BYTES, MAX_CAPSET_BYTES, MAX_MANIFEST_BYTES } from "./limits.ts";

/** Most templates kept in memory before the cache starts over. */
const MAX_CACHED_TEMPLATES = 1024;

/** Options for {@linkcode openVault}. */
export interface OpenVaultOptions {
  /**
   * The vault folder (`<home>/vault`) as an absolute canonical path (no symlink on
   * the way, no trailing `/`); this process must not be able to write it.
   */
  dir: string;
  /** This agent's age identity (`AGE-SECRET-KEY-1…`). Never logged. */
  identity: string;
  /** The dispatcher keys (from the verified trust root) that sign manifests. */
  dispatcher: TrustedKeySet;
  /** Clock for manifest expiry. */
  clock: Clock;
  /** Allowed clock skew in milliseconds. */
  skewMs: number;
}

/** A read-only, verifying view of the vault for one agent. */
export interface VaultReader extends TemplateResolver {
  /**
   * The decrypted signed capset bytes of `agent` (DSSE, unverified: the capset
   * module verifies them). Throws `vault_resolution` when absent, `vault_access`
   * when this identity cannot decrypt it or the process may not read it.
   */
  readCapset(agent: string): Promise<Uint8Array<ArrayBuffer>>;
}

interface CacheEntry {
  resolved: ResolvedTemplate;
  validity: Validity;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

class VerifyingVaultReader implements VaultReader {
  readonly #dir: string;
  readonly #identity: string;
  readonly #dispatcher: TrustedKeySet;
  readonly #clock: Clock;
  readonly #skewMs: number;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(options: OpenVaultOptions) {
    this.#dir = options.dir;
    this.#identity = options.identity;
    this.#dispatcher = options.dispatcher;
    this.#clock = options.clock;
    this.#skewMs = options.skewMs;
  }

  async resolve(id: string, version: number, scope: readonly string[]): Promise<ResolvedTemplate> {
    const ids = { template_id: id };
    // scope first: a template outside the capset is refused without touching the disk
    if (!scope.includes(id)) {
      throw new SaoeError(
        "vault_access",
        `Cannot resolve template ${
          JSON.stringify(id.slice(0, 80))
        }: it is not in this agent's vault scope`,
        ids,
      );
    }
    try {
      return await this.#resolveInScope(id, version);
    } catch (err: unknown) {
      throw err instanceof SaoeError ? err.withIds(ids) : err;
    }
  }

  async #resolveInScope(id: string, version: number): Promise<ResolvedTemplate> {
    const what = `template ${id}@${version}`;
    const cipherPath = templateCipherPath(this.#dir, id, version);
    const manifestPath = templateManifestPath(this.#dir, id, version);
    const key = `${id}@${version}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      checkValidity(hit.validity, {
        clock: this.#clock,
        skewMs: this.#skewMs,
        what: `manifest of ${what}`,
      });
      return hit.resolved;
    }
    await checkRealDir(templateDir(this.#dir, id), `the vault folder of template ${id}`);
    const cipher = await readRegularFile(cipherPath, {
      maxBytes: MAX_TEMPLATE_BYTES + AGE_OVERHEAD_BYTES,
      what,
    });
    const manifestBytes = await readRegularFile(manifestPath, {
      maxBytes: MAX_MANIFEST_BYTES,
      what: `manifest of ${what}`,
    });
    const plaintext = await decryptWith(this.#identity, cipher);
    const manifest = await verifyTemplateManifest(manifestBytes, {
      dispatcher: this.#dispatcher,
      clock: this.#clock,
      skewMs: this.#skewMs,
      id,
      version,
    });
    const digest = await sha256(plaintext);
    if (!constantTimeEqual(digest, fromHex(manifest.sha256, "manifest digest"))) {
      throw new SaoeError(
        "template_hash_mismatch",
        `Cannot resolve ${what}: its bytes do not hash to the sha256 its signed manifest names`,
      );
    }
    const template: Template = deepFreeze(parseTemplate(plaintext));
    if (template.id !== id || template.version !== version) {
      throw new SaoeError(
        "vault_resolution",
        `Cannot resolve ${what}: the template inside is ${template.id}@${template.version}`,
      );
    }
    const resolved: ResolvedTemplate = Object.freeze({ template, sha256: manifest.sha256 });
    if (this.#cache.size >= MAX_CACHED_TEMPLATES) this.#cache.clear();
    this.#cache.set(key, {
      resolved,
      validity: { issued_at: manifest.issued_at, expires_at: manifest.expires_at },
    });
    return resolved;
  }

  async readCapset(agent: string): Promise<Uint8Array<ArrayBuffer>> {
    const ids = { agent };
    try {
      const path = capsetPath(this.#dir, agent);
      const cipher = await readRegularFile(path, {
        maxBytes: MAX_CAPSET_BYTES + AGE_OVERHEAD_BYTES,
        what: `capability set of ${agent}`,
      });
      return await decryptWith(this.#identity, cipher);
    } catch (err: unknown) {
      throw err instanceof SaoeError ? err.withIds(ids) : err;
    }
  }

  /** Never reveals the identity. */
  toJSON(): { vault: string } {
    return { vault: this.#dir };
  }

  /** Never reveals the identity. */
  [Symbol.for("Deno.customInspect")](): string {
    return `VaultReader(${this.#dir})`;
  }
}

/**
 * Opens the vault read-only for one agent. Refuses (`vault_writable`) when this
 * process may write `dir` (docs/design.md section 10), (`unsafe_path`) when
 * `dir` is a symlink, has a symlink above it or is not a folder, and
 * (`bad_config`) when `dir` is not an absolute normalised path, the folder is
 * missing or the identity is malformed.
 * A process allowed to read only its own entries (not `dir` itself) may open it:
 * each entry is then checked as it is read.
 *
 * @example
 * ```ts
 * import { openVault } from "./reader.ts";
 * import { generateAgeIdentity } from "./age.ts";
 * const dir = await Deno.makeTempDir();
 * const { identity } = await generateAgeIdentity();
 * // a process that may write the vault must not trust it
 * const granted = Deno.permissions.querySync({ name: "write", path: dir }).state === "granted";
 * try {
 *   await openVault({
 *     dir, identity, dispatcher: { name: "dispatcher", keys: [], threshold: 1 },
 *     clock: { now: () => Date.now() }, skewMs: 0,
 *   });
 *   if (granted) throw new Error("opened a writable vault");
 * } catch (err) {
 *   if (!granted || (err as { code?: string }).code !== "vault_writable") throw err;
 * }
 * await Deno.remove(dir);
 * ```
 */
export async function openVault(options: OpenVaultOptions): Promise<VaultReader> {
  refuseWritable(options.dir, "the vault");
  if (
    !isAbsolute(options.dir) || normalize(options.dir) !== options.dir || options.dir.endsWith("/")
  ) {
    throw new SaoeError(
      "bad_config",
      `Cannot open the vault at ${
        JSON.stringify(options.dir)
      }: expected an absolute, normalised folder path`,
    );
  }
  try {
    await checkRealDir(options.dir, "the vault");
  } catch (err: unknown) {
    if (!(err instanceof SaoeError)) throw err;
    if (err.code === "vault_resolution") {
      throw new SaoeError("bad_config", `Cannot open the vault: ${options.dir} does not exist`, {
        file: options.dir,
      });
    }
    // an agent may read only its own entries, not the vault folder itself: each entry's
    // path is then checked (realpath) when it is read
    if (err.code !== "vault_access") throw err;
  }
  await recipientOf(options.identity);
  return new VerifyingVaultReader(options);
}
