/**
 * The offline dispatcher key file (`saoe init --offline-dispatcher --export F`):
 * the dispatcher signing seeds, encrypted with a passphrase (age's scrypt
 * recipient), kept off the pipeline host and brought back only for a ceremony
 * (`saoe publish --dispatcher-key F`).
 *
 * This module is the one place that uses age's passphrase mode (the vault itself
 * uses X25519 recipients only, see `core/domain/vault/age.ts`). The file is a binary age
 * file, so `age -d F` (Debian's `age`) decrypts it too. Inside is strict JSON:
 *
 * ```json
 * {"kind":"saoe-dispatcher-keys","format":1,"created_at":"…","keys":[{"keyid":"<hex sha256 of the public key>","ed25519_seed":"<base64>"}]}
 * ```
 *
 * Each seed must produce the public key its `keyid` names (a damaged or edited
 * file is refused, not half used). A one-key file of `saoe keys` (the key
 * store's `{"kind":"dispatcher","ed25519_seed":…}` document, passphrase-encrypted,
 * see `keys_seed_file.ts`) is read too, so a k-of-n holder's single key works
 * with `--dispatcher-key`. Seeds and passphrases are never logged.
 *
 * @module
 */
import { isAbsolute, relative, resolve } from "node:path";
import { Decrypter, Encrypter } from "age-encryption";
import { SaoeError } from "../../primitives/errors.ts";
import { fromBase64, toBase64, utf8 } from "../../primitives/crypto/bytes.ts";
import { SEED_BYTES, SigningKey } from "../../primitives/crypto/ed25519.ts";
import { arr, literal, obj, str } from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { SHA256_HEX_RE } from "../../primitives/ids/patterns.ts";
import { timestamp } from "../../primitives/time/timestamp.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { readTrustFile } from "../../domain/trust/files.ts";

/** Shortest passphrase accepted when exporting (a short one falls to offline guessing). */
export const MIN_PASSPHRASE_LENGTH = 12;

/** Largest export file read. */
export const MAX_EXPORT_BYTES = 64 * 1024;

const decodeSingleSeed = obj({
  kind: literal("dispatcher"),
  ed25519_seed: str({ maxLength: 64 }),
});

const decodeExport = obj({
  kind: literal("saoe-dispatcher-keys"),
  format: literal(1),
  created_at: timestamp,
  keys: arr(
    obj({
      keyid: str({ pattern: SHA256_HEX_RE, maxLength: 64 }),
      ed25519_seed: str({ maxLength: 64 }),
    }),
    32,
  ),
});

/** Options for {@linkcode writeDispatcherExport}. */
export interface WriteDispatcherExportOptions {
  /** Where to write; must not exist yet. */
  path: string;
  /** The dispatcher seeds, in key order. */
  seeds: readonly Uint8Array<ArrayBuffer>[];
  passphrase: string;
  clock: Clock;
  /** scrypt work factor (log2 N); default the library's (18). Lower only in tests. */
  workFactor?: number;
}

/**
 * Refuses a passphrase shorter than {@linkcode MIN_PASSPHRASE_LENGTH} characters
 * (`bad_credential`); the message never quotes it.
 *
 * @example
 * ```ts
 * import { checkExportPassphrase } from "./dispatcher_export.ts";
 * checkExportPassphrase("correct horse battery staple");
 * ```
 */
export function checkExportPassphrase(passphrase: string): void {
  if ([...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new SaoeError(
      "bad_credential",
      `Cannot use the passphrase: it has fewer than ${MIN_PASSPHRASE_LENGTH} characters`,
    );
  }
}

/**
 * Refuses an export path inside `home` (the point is to keep the seeds off the
 * pipeline host, and `init --force` would delete it) or one that exists already.
 *
 * @example
 * ```ts
 * import { checkExportPath } from "./dispatcher_export.ts";
 * const dir = await Deno.makeTempDir();
 * await checkExportPath(`${dir}/dispatcher.age`, `${dir}/home`);
 * await Deno.remove(dir);
 * ```
 */
export async function checkExportPath(path: string, home: string): Promise<void> {
  const rel = relative(resolve(home), resolve(path));
  if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot export the dispatcher keys to ${path}: it is inside the home ${home}; choose a path outside it (then move the file off this host)`,
      { file: path },
    );
  }
  const exists = await Deno.lstat(path).then(() => true, () => false);
  if (exists) {
    throw new SaoeError(
      "bad_config",
      `Cannot export the dispatcher keys to ${path}: a file is already there (it is never overwritten)`,
      { file: path },
    );
  }
}

/**
 * Writes the seeds to `path` encrypted with `passphrase` (mode 0600, never
 * overwriting).
 *
 * @example
 * ```ts ignore
 * await writeDispatcherExport({ path, seeds, passphrase, clock: systemClock });
 * ```
 */
export async function writeDispatcherExport(options: WriteDispatcherExportOptions): Promise<void> {
  checkExportPassphrase(options.passphrase);
  const keys = [];
  for (const seed of options.seeds) {
    const key = await SigningKey.fromSeed(seed);
    keys.push({ keyid: key.keyid, ed25519_seed: toBase64(seed) });
  }
  const plain = utf8(JSON.stringify(decodeExport({
    kind: "saoe-dispatcher-keys",
    format: 1,
    created_at: formatTimestamp(options.clock.now()),
    keys,
  }, "$")));
  try {
    const encrypter = new Encrypter();
    encrypter.setPassphrase(options.passphrase);
    if (options.workFactor !== undefined) encrypter.setScryptWorkFactor(options.workFactor);
    const cipher = new Uint8Array(await encrypter.encrypt(plain));
    await writeFileAtomic(options.path, cipher, { mode: 0o600, overwrite: false });
  } finally {
    plain.fill(0);
  }
}

/** Options for {@linkcode readDispatcherExport}. */
export interface ReadDispatcherExportOptions {
  path: string;
  passphrase: string;
}

/**
 * Decrypts an export file and returns its seeds (each checked against its key
 * id). A wrong passphrase, or a file that is not a passphrase-encrypted export,
 * is `bad_credential`.
 *
 * @example
 * ```ts
 * import { readDispatcherExport, writeDispatcherExport } from "./dispatcher_export.ts";
 * import { generateSeed } from "../../primitives/crypto/ed25519.ts";
 * const dir = await Deno.makeTempDir();
 * const passphrase = "correct horse battery staple";
 * await writeDispatcherExport({
 *   path: `${dir}/d.age`, seeds: [generateSeed()], passphrase, clock: { now: () => Date.now() },
 * });
 * const seeds = await readDispatcherExport({ path: `${dir}/d.age`, passphrase });
 * if (seeds.length !== 1) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readDispatcherExport(
  options: ReadDispatcherExportOptions,
): Promise<Uint8Array<ArrayBuffer>[]> {
  let cipher: Uint8Array;
  try {
    cipher = await readTrustFile(options.path, MAX_EXPORT_BYTES);
  } catch (err: unknown) {
    if (!(err instanceof SaoeError)) throw err;
    throw new SaoeError(err.code, `Cannot read the dispatcher key file: ${err.message}`, {
      file: options.path,
    });
  }
  let plain: Uint8Array;
  try {
    const decrypter = new Decrypter();
    decrypter.addPassphrase(options.passphrase);
    plain = await decrypter.decrypt(cipher);
  } catch {
    throw new SaoeError(
      "bad_credential",
      `Cannot open the dispatcher key file ${options.path}: wrong passphrase, or not a passphrase-encrypted SAOE dispatcher key file`,
      { file: options.path },
    );
  }
  try {
    const json = parseStrictJson(plain, { maxBytes: MAX_EXPORT_BYTES });
    if (json.kind === "dispatcher") {
      const seed = fromBase64(decodeSingleSeed(json, "$").ed25519_seed, `seed in ${options.path}`);
      if (seed.byteLength !== SEED_BYTES) {
        throw new SaoeError(
          "parse_error",
          `Invalid dispatcher key file ${options.path}: its seed is not ${SEED_BYTES} bytes`,
          { file: options.path },
        );
      }
      return [seed];
    }
    const doc = decodeExport(json, "$");
    const seeds: Uint8Array<ArrayBuffer>[] = [];
    for (const [i, entry] of doc.keys.entries()) {
      const seed = fromBase64(entry.ed25519_seed, `seed ${i + 1} in ${options.path}`);
      const key = seed.byteLength === SEED_BYTES ? await SigningKey.fromSeed(seed) : undefined;
      if (key === undefined || key.keyid !== entry.keyid) {
        throw new SaoeError(
          "parse_error",
          `Invalid dispatcher key file ${options.path}: key ${i + 1} does not match its key id`,
          { file: options.path },
        );
      }
      seeds.push(seed);
    }
    return seeds;
  } finally {
    plain.fill(0);
  }
}
