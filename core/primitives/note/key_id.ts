/**
 * Signature types and key IDs of C2SP signed-note: a key ID is the first four
 * bytes, big-endian, of SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key).
 * The ID is a hint that picks a verifier, not a proof of anything: a note is
 * trusted only once the configured key verifies its signature.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { SaoeError } from "../errors.ts";
import { utf8 } from "../crypto/bytes.ts";
import { checkKeyName } from "./text.ts";

/** Signature type of plain Ed25519 note signatures. */
export const SIG_TYPE_ED25519 = 0x01;
/** Signature type of timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature). */
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;

/**
 * The key ID of a key: SHA-256(name ‖ 0x0A ‖ type ‖ publicKey)[:4] as a
 * big-endian uint32. Refuses an invalid name or a type outside 0..255
 * (`parse_error`).
 *
 * @example
 * ```ts
 * import { keyIdOf } from "./key_id.ts";
 * // the verifier key PeterNeumann+c74f20a3+ARpc… of golang.org/x/mod/sumdb/note
 * const typeAndKey = Uint8Array.fromBase64("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * if (keyIdOf("PeterNeumann", 0x01, typeAndKey.subarray(1)) !== 0xc74f20a3) throw new Error();
 * ```
 */
export function keyIdOf(name: string, type: number, publicKey: Uint8Array): number {
  checkKeyName(name);
  if (!Number.isInteger(type) || type < 0 || type > 0xff) {
    throw new SaoeError("parse_error", `Invalid signature type ${type}: not a byte`);
  }
  if (!(publicKey instanceof Uint8Array)) {
    throw new SaoeError("parse_error", "Invalid public key: not bytes");
  }
  const digest = createHash("sha256").update(utf8(name)).update(Uint8Array.of(0x0a, type))
    .update(publicKey).digest();
  return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
}

/**
 * A key ID as the 8 lowercase hex digits verifier keys and messages use.
 *
 * @example
 * ```ts
 * import { keyIdHex } from "./key_id.ts";
 * if (keyIdHex(0xc74f20a3) !== "c74f20a3" || keyIdHex(1) !== "00000001") throw new Error();
 * ```
 */
export function keyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, "0");
}
