/**
 * A dispatcher signing seed carried off the pipeline host: the key store's own
 * dispatcher document (`{"kind":"dispatcher","ed25519_seed":…}`) encrypted with
 * an age passphrase (scrypt). A key holder keeps it on their own machine or
 * medium and brings it to a ceremony (`saoe keys sign-root FILE --key SEED_FILE`)
 * to add its signature; the seed is zeroed after use and never written anywhere
 * else. `readDispatcherExport` (`dispatcher_export.ts`) reads these files as
 * well as the multi-key export of `saoe init --offline-dispatcher`.
 *
 * @module
 */
import { Decrypter, Encrypter } from "age-encryption";
import { SaoeError } from "../../primitives/errors.ts";
import { fromBase64, toBase64, utf8 } from "../../primitives/crypto/bytes.ts";
import { SEED_BYTES, SigningKey } from "../../primitives/crypto/ed25519.ts";
import { obj, str } from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { checkExportPassphrase } from "./dispatcher_export.ts";

const MAX_SEED_FILE_BYTES = 64 * 1024;
const decodeSeedDocument = obj({
  kind: str({ pattern: /^dispatcher$/ }),
  ed25519_seed: str({ maxLength: 64 }),
});

/** Options for {@linkcode exportDispatcherSeed}. */
export interface ExportSeedOptions {
  seed: Uint8Array<ArrayBuffer>;
  passphrase: string;
  /** scrypt work factor (log2 N); default the library's (18). Lower only in tests. */
  workFactor?: number;
}

/**
 * Encrypts a dispatcher seed with a passphrase (binary age file).
 *
 * @example
 * ```ts
 * import { exportDispatcherSeed, importDispatcherSeed } from "./keys_seed_file.ts";
 * import { generateSeed } from "../../primitives/crypto/ed25519.ts";
 * const file = await exportDispatcherSeed({
 *   seed: generateSeed(), passphrase: "correct horse battery", workFactor: 10,
 * });
 * const key = await importDispatcherSeed(file, "correct horse battery");
 * if (key.keyid.length !== 64) throw new Error();
 * ```
 */
export async function exportDispatcherSeed(
  options: ExportSeedOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  checkExportPassphrase(options.passphrase);
  if (options.seed.byteLength !== SEED_BYTES) {
    throw new RangeError(`A dispatcher seed has ${SEED_BYTES} bytes`);
  }
  const encrypter = new Encrypter();
  encrypter.setPassphrase(options.passphrase);
  if (options.workFactor !== undefined) encrypter.setScryptWorkFactor(options.workFactor);
  const plain = utf8(JSON.stringify({ kind: "dispatcher", ed25519_seed: toBase64(options.seed) }));
  try {
    return new Uint8Array(await encrypter.encrypt(plain));
  } finally {
    plain.fill(0);
  }
}

/**
 * Decrypts a passphrase-encrypted dispatcher seed and returns its signing key;
 * a wrong passphrase or a file of another kind is a `bad_credential` refusal.
 */
export async function importDispatcherSeed(
  file: Uint8Array,
  passphrase: string,
): Promise<SigningKey> {
  if (file.byteLength > MAX_SEED_FILE_BYTES) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot read the dispatcher seed file: ${file.byteLength} bytes exceeds ${MAX_SEED_FILE_BYTES}`,
    );
  }
  const decrypter = new Decrypter();
  decrypter.addPassphrase(passphrase);
  let plain: Uint8Array;
  try {
    plain = await decrypter.decrypt(file);
  } catch {
    throw new SaoeError(
      "bad_credential",
      "Cannot decrypt the dispatcher seed file: wrong passphrase, or not a passphrase-encrypted age file",
    );
  }
  let seed: Uint8Array<ArrayBuffer> | undefined;
  try {
    const doc = decodeSeedDocument(parseStrictJson(plain, { maxBytes: MAX_SEED_FILE_BYTES }), "$");
    seed = fromBase64(doc.ed25519_seed, "dispatcher seed");
    if (seed.byteLength !== SEED_BYTES) {
      throw new SaoeError("parse_error", `Invalid dispatcher seed file: seed is not 32 bytes`);
    }
    return await SigningKey.fromSeed(seed);
  } finally {
    seed?.fill(0);
    plain.fill(0);
  }
}
