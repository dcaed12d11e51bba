/**
 * Ed25519 through WebCrypto. Private keys exist in memory only as non-extractable
 * `CryptoKey`s made from a 32-byte seed; a {@linkcode SigningKey} never prints or
 * serialises its secret. Public keys are cached as imported `CryptoKey`s so that
 * verifying thousands of envelopes does not re-import the same key each time.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { concatBytes, sha256Hex, toHex } from "./bytes.ts";

/** Length of an Ed25519 seed, public key and signature in bytes. */
export const SEED_BYTES = 32;
/** Length of an Ed25519 public key. */
export const PUBLIC_KEY_BYTES = 32;
/** Length of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;

// PKCS#8 wrapper for a raw Ed25519 seed (RFC 8410)
const PKCS8_PREFIX = Uint8Array.fromHex("302e020100300506032b657004220420");

/** Creates 32 random bytes suitable as an Ed25519 seed. */
export function generateSeed(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(SEED_BYTES));
}

/** The key id SAOE uses as a hint: lowercase hex SHA-256 of the raw public key. */
export function keyIdOf(publicKey: Uint8Array<ArrayBuffer>): Promise<string> {
  return sha256Hex(publicKey);
}

/**
 * An Ed25519 private key held as a non-extractable CryptoKey.
 *
 * @example
 * ```ts
 * import { generateSeed, SigningKey, verifyEd25519 } from "./ed25519.ts";
 * const key = await SigningKey.fromSeed(generateSeed());
 * const msg = new TextEncoder().encode("hi");
 * const sig = await key.sign(msg);
 * if (!await verifyEd25519(key.publicKey, msg, sig)) throw new Error("unexpected");
 * ```
 */
export class SigningKey {
  readonly #key: CryptoKey;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array<ArrayBuffer>;
  /** Hex SHA-256 of the public key. */
  readonly keyid: string;

  private constructor(key: CryptoKey, publicKey: Uint8Array<ArrayBuffer>, keyid: string) {
    this.#key = key;
    this.publicKey = publicKey;
    this.keyid = keyid;
  }

  /** Imports a 32-byte seed. The seed array is not retained. */
  static async fromSeed(seed: Uint8Array): Promise<SigningKey> {
    if (seed.byteLength !== SEED_BYTES) {
      throw new SaoeError("parse_error", `Invalid Ed25519 seed: expected ${SEED_BYTES} bytes`);
    }
    const pkcs8 = concatBytes(PKCS8_PREFIX, seed);
    try {
      // extractable once, only to learn the public key; the signing key is not extractable
      const tmp = await crypto.subtle.importKey("pkcs8", pkcs8, "Ed25519", true, ["sign"]);
      const jwk = await crypto.subtle.exportKey("jwk", tmp);
      const publicKey = Uint8Array.fromBase64(jwk.x ?? "", { alphabet: "base64url" });
      const key = await crypto.subtle.importKey("pkcs8", pkcs8, "Ed25519", false, ["sign"]);
      return new SigningKey(key, publicKey, await keyIdOf(publicKey));
    } finally {
      pkcs8.fill(0);
    }
  }

  /** Signs `message` (exact bytes). */
  async sign(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await crypto.subtle.sign("Ed25519", this.#key, message));
  }

  /** Never reveals the secret. */
  toJSON(): { keyid: string } {
    return { keyid: this.keyid };
  }

  /** Never reveals the secret. */
  [Symbol.for("Deno.customInspect")](): string {
    return `SigningKey(${this.keyid.slice(0, 16)}…)`;
  }
}

// Encodings of the eight points of small order, plus the non-canonical encodings
// p and p+1 (libsodium's list; the sign bit is ignored when comparing). WebCrypto
// accepts a signature (R = identity, S = 0) on any message under the identity key:
// a small-order key would let anyone forge statements, so it never verifies.
const SMALL_ORDER_KEYS = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map((hex) => Uint8Array.fromHex(hex));

function hasSmallOrder(publicKey: Uint8Array): boolean {
  return SMALL_ORDER_KEYS.some((bad) => {
    let diff = (publicKey[31]! & 0x7f) ^ bad[31]!;
    for (let i = 0; i < 31; i++) diff |= publicKey[i]! ^ bad[i]!;
    return diff === 0;
  });
}

const VERIFY_KEYS = new Map<string, Promise<CryptoKey>>();
const MAX_CACHED_KEYS = 4096;

function verifyKey(publicKey: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const id = toHex(publicKey);
  let key = VERIFY_KEYS.get(id);
  if (key === undefined) {
    if (VERIFY_KEYS.size >= MAX_CACHED_KEYS) VERIFY_KEYS.clear();
    key = crypto.subtle.importKey("raw", publicKey, "Ed25519", false, ["verify"]);
    VERIFY_KEYS.set(id, key);
    key.catch(() => VERIFY_KEYS.delete(id));
  }
  return key;
}

/**
 * Verifies an Ed25519 signature over exact bytes. Malformed keys or signatures
 * and public keys of small order verify as false, never throw.
 *
 * @example
 * ```ts
 * import { SigningKey, verifyEd25519 } from "./ed25519.ts";
 * const key = await SigningKey.fromSeed(new Uint8Array(32).fill(1));
 * const msg = new TextEncoder().encode("hi");
 * const sig = await key.sign(msg);
 * if (!await verifyEd25519(key.publicKey, msg, sig)) throw new Error("unexpected");
 * if (await verifyEd25519(key.publicKey, new TextEncoder().encode("ho"), sig)) throw new Error();
 * ```
 */
export async function verifyEd25519(
  publicKey: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
  signature: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  if (publicKey.byteLength !== PUBLIC_KEY_BYTES || signature.byteLength !== SIGNATURE_BYTES) {
    return false;
  }
  if (hasSmallOrder(publicKey)) return false;
  try {
    return await crypto.subtle.verify("Ed25519", await verifyKey(publicKey), signature, message);
  } catch {
    return false;
  }
}
