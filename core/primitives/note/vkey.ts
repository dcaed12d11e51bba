/**
 * Verifier keys of c2sp.org/signed-note: `<name>+<key ID as 8 hex digits>+
 * base64(signature type ‖ public key)`, the text form in which a log's or a
 * witness's key is configured.
 *
 * Only the two Ed25519 types SAOE uses are accepted: 0x01 (note signatures)
 * and 0x04 (cosignature/v1), each with a 32-byte key. Parsing is strict
 * (lowercase hex, canonical base64) and refuses a key ID that does not match
 * the name, type and key, so a mistyped or tampered key cannot be configured
 * (`parse_error`).
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { fromBase64, toBase64 } from "../crypto/bytes.ts";
import { PUBLIC_KEY_BYTES } from "../crypto/ed25519.ts";
import { cosignatureVerifier } from "./cosignature.ts";
import { keyIdHex, keyIdOf, SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519 } from "./key_id.ts";
import { ed25519Verifier, type Verifier } from "./note.ts";
import { checkKeyName } from "./text.ts";

/** A parsed verifier key. */
export interface VerifierKey {
  name: string;
  keyId: number;
  /** 0x01 (Ed25519 note signature) or 0x04 (Ed25519 cosignature/v1). */
  type: number;
  publicKey: Uint8Array;
}

const KEY_ID_RE = /^[0-9a-f]{8}$/;
const MAX_VKEY_LENGTH = 1024;

function checkType(type: number): void {
  if (type !== SIG_TYPE_ED25519 && type !== SIG_TYPE_COSIGNATURE_V1) {
    throw new SaoeError(
      "parse_error",
      `Invalid verifier key: signature type ${type} is neither Ed25519 (0x01) nor cosignature/v1 (0x04)`,
    );
  }
}

function checkKey(publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES) {
    throw new SaoeError(
      "parse_error",
      `Invalid verifier key: the public key is not ${PUBLIC_KEY_BYTES} bytes`,
    );
  }
}

/**
 * Encodes a verifier key.
 *
 * @example
 * ```ts
 * import { encodeVkey } from "./vkey.ts";
 * const key = Uint8Array.fromBase64("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").subarray(1);
 * const vkey = encodeVkey("PeterNeumann", 0x01, key);
 * if (vkey !== "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW") throw new Error();
 * ```
 */
export function encodeVkey(name: string, type: number, publicKey: Uint8Array): string {
  checkKeyName(name);
  checkType(type);
  checkKey(publicKey);
  const material = new Uint8Array(1 + PUBLIC_KEY_BYTES);
  material[0] = type;
  material.set(publicKey, 1);
  return `${name}+${keyIdHex(keyIdOf(name, type, publicKey))}+${toBase64(material)}`;
}

/**
 * Parses a verifier key strictly.
 *
 * @example
 * ```ts
 * import { parseVkey } from "./vkey.ts";
 * const k = parseVkey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * if (k.name !== "PeterNeumann" || k.keyId !== 0xc74f20a3 || k.type !== 1) throw new Error();
 * ```
 */
export function parseVkey(text: string): VerifierKey {
  if (typeof text !== "string" || text.length > MAX_VKEY_LENGTH) {
    throw new SaoeError("parse_error", "Invalid verifier key: not a string of reasonable length");
  }
  // the name holds no "+"; the base64 may
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (second < 0) {
    throw new SaoeError("parse_error", "Invalid verifier key: expected <name>+<key ID>+<key>");
  }
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  checkKeyName(name, "verifier key name");
  if (!KEY_ID_RE.test(idHex)) {
    throw new SaoeError(
      "parse_error",
      "Invalid verifier key: the key ID is not 8 lowercase hex digits",
    );
  }
  const material = fromBase64(text.slice(second + 1), "verifier key material");
  if (material.byteLength === 0) {
    throw new SaoeError("parse_error", "Invalid verifier key: no key material");
  }
  const type = material[0]!;
  checkType(type);
  const publicKey = material.slice(1);
  checkKey(publicKey);
  const keyId = Number.parseInt(idHex, 16);
  const expected = keyIdOf(name, type, publicKey);
  if (keyId !== expected) {
    throw new SaoeError(
      "parse_error",
      `Invalid verifier key: key ID ${idHex} does not match the key (it is ${keyIdHex(expected)})`,
    );
  }
  return { name, keyId, type, publicKey };
}

/**
 * The {@linkcode Verifier} a verifier key configures: a note verifier for type
 * 0x01, a cosignature verifier for type 0x04.
 *
 * @example
 * ```ts
 * import { vkeyVerifier } from "./vkey.ts";
 * const v = vkeyVerifier("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * if (v.name !== "PeterNeumann" || v.keyId !== 0xc74f20a3) throw new Error();
 * ```
 */
export function vkeyVerifier(text: string): Verifier {
  const { name, type, publicKey } = parseVkey(text);
  return type === SIG_TYPE_ED25519
    ? ed25519Verifier(name, publicKey)
    : cosignatureVerifier(name, publicKey);
}
