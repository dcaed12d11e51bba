/**
 * Where a development tool gets a signing key: an agent's own key from the home's
 * key store (the operator can open it), or a raw seed file (a key no directory
 * lists, or one saved from an earlier ceremony).
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { fromBase64, fromHex } from "../../primitives/crypto/bytes.ts";
import { SEED_BYTES, SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { openKeyStore } from "../../domain/keys/keystore.ts";

/**
 * The signing key of `agent` (or `supervisor`) from `home`'s key store.
 *
 * @example
 * ```ts ignore
 * const key = await agentSigningKey(homeLayout(".saoe"), "intake");
 * ```
 */
export async function agentSigningKey(home: HomeLayout, agent: string): Promise<SigningKey> {
  const secrets = await (await openKeyStore(home.keys)).loadAgent(agent);
  try {
    return await SigningKey.fromSeed(secrets.seed);
  } finally {
    secrets.seed.fill(0);
  }
}

/**
 * Decodes an Ed25519 seed from a file's bytes: exactly 32 raw bytes, or 64 hex
 * digits, or base64 of 32 bytes (surrounding whitespace ignored).
 *
 * @example
 * ```ts
 * import { seedFromBytes } from "./signer.ts";
 * const seed = seedFromBytes(new TextEncoder().encode("11".repeat(32) + "\n"));
 * if (seed.byteLength !== 32 || seed[0] !== 0x11) throw new Error();
 * ```
 */
export function seedFromBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.byteLength === SEED_BYTES) return new Uint8Array(bytes);
  const text = new TextDecoder().decode(bytes).trim();
  let seed: Uint8Array<ArrayBuffer> | undefined;
  try {
    seed = /^[0-9a-fA-F]{64}$/.test(text) ? fromHex(text.toLowerCase()) : fromBase64(text);
  } catch {
    seed = undefined;
  }
  if (seed === undefined || seed.byteLength !== SEED_BYTES) {
    throw new SaoeError(
      "parse_error",
      `Invalid seed: expected ${SEED_BYTES} raw bytes, 64 hex digits or base64 of ${SEED_BYTES} bytes`,
    );
  }
  return seed;
}

/** The signing key whose seed is in the file at `path` (see {@linkcode seedFromBytes}). */
export async function seedFileSigningKey(path: string): Promise<SigningKey> {
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile || info.size > 4096) throw new Error("not a small regular file");
    bytes = await Deno.readFile(path);
  } catch (err: unknown) {
    throw new SaoeError(
      "io_error",
      `Cannot read seed file ${path}: ${err instanceof Error ? err.message : String(err)}`,
      { file: path },
    );
  }
  const seed = seedFromBytes(bytes);
  try {
    return await SigningKey.fromSeed(seed);
  } finally {
    seed.fill(0);
  }
}
