/**
 * The witness's signing key file (`witness.key` in the state directory, mode
 * 0600): `{"kind":"witness_key","ed25519_seed":"<base64>"}`. It is written once,
 * by `saoe witness init`, and never replaced in place: a witness whose key or
 * state is lost is retired and a new one is made under a new key.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { fromBase64, toBase64, utf8 } from "../../primitives/crypto/bytes.ts";
import { SEED_BYTES, SigningKey } from "../../primitives/crypto/ed25519.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { literal, obj, str } from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";

const MAX_KEY_FILE_BYTES = 1024;
const decodeKeyFile = obj({
  kind: literal("witness_key"),
  ed25519_seed: str({ maxLength: 64 }),
});

/**
 * Writes `seed` to a new key file at `path` (mode 0600; an existing file is a
 * `rollback` refusal and stays untouched).
 *
 * @example
 * ```ts
 * import { readKeyFile, writeKeyFile } from "./key_file.ts";
 * import { generateSeed } from "../../primitives/crypto/ed25519.ts";
 * const dir = await Deno.makeTempDir();
 * await writeKeyFile(`${dir}/witness.key`, generateSeed());
 * const key = await readKeyFile(`${dir}/witness.key`);
 * if (key.publicKey.byteLength !== 32) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeKeyFile(path: string, seed: Uint8Array): Promise<void> {
  const text = `${JSON.stringify({ kind: "witness_key", ed25519_seed: toBase64(seed) })}\n`;
  const bytes = utf8(text);
  try {
    await writeFileAtomic(path, bytes, { mode: 0o600, overwrite: false });
  } finally {
    bytes.fill(0);
  }
}

/** Reads the key file at `path` (checked private by the caller) and imports the key. */
export async function readKeyFile(path: string): Promise<SigningKey> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(path);
  } catch (err: unknown) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SaoeError("io_error", `Cannot read the witness key file ${path}: ${why}`, {
      file: path,
    });
  }
  let seed: Uint8Array<ArrayBuffer> | undefined;
  try {
    if (bytes.byteLength > MAX_KEY_FILE_BYTES) {
      throw new SaoeError("size_exceeded", `The witness key file ${path} is too large`);
    }
    const file = decodeKeyFile(parseStrictJson(bytes, { maxBytes: MAX_KEY_FILE_BYTES }), "$");
    seed = fromBase64(file.ed25519_seed, `seed in ${path}`);
    if (seed.byteLength !== SEED_BYTES) {
      throw new SaoeError("parse_error", `The seed in ${path} is not ${SEED_BYTES} bytes`);
    }
    return await SigningKey.fromSeed(seed);
  } catch (err: unknown) {
    if (!(err instanceof SaoeError)) throw err;
    throw new SaoeError(
      err.code,
      `Cannot use the witness key file ${path}: ${err.message}`,
      { file: path },
      { cause: err },
    );
  } finally {
    bytes.fill(0);
    seed?.fill(0);
  }
}
