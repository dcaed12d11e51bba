/**
 * Decoders shared by the trust root and the agent key directory: key id labels
 * and Ed25519 public keys written as canonical base64 of exactly 32 bytes (one key,
 * one encoding, so a key cannot hide behind a second spelling).
 *
 * @module
 */
import { fromBase64 } from "../../primitives/crypto/bytes.ts";
import { PUBLIC_KEY_BYTES } from "../../primitives/crypto/ed25519.ts";
import type { PublicKeyEntry } from "../../primitives/dsse/types.ts";
import { DecodeError, type Decoder, str } from "../../primitives/json/decode.ts";
import { isSaoeError } from "../../primitives/errors.ts";

/** Key id labels: letters, digits and `._:-`, 1 to 128 characters. */
export const KEYID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Decoder for a key id label. */
export const keyIdLabel: Decoder<string> = str({
  pattern: KEYID_RE,
  maxLength: 128,
  what: "a key id label (letters, digits, '.', '_', ':', '-'; 1 to 128 characters)",
});

/** Decodes canonical base64 of a 32-byte Ed25519 public key; throws a `parse_error` otherwise. */
export function publicKeyBytes(text: string, path: string): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fromBase64(text, "public key");
  } catch (err: unknown) {
    if (isSaoeError(err)) throw new DecodeError(path, "canonical base64 of a 32-byte public key");
    throw err;
  }
  if (bytes.byteLength !== PUBLIC_KEY_BYTES) {
    throw new DecodeError(path, "canonical base64 of a 32-byte public key");
  }
  return bytes;
}

/** Decoder for a public key field: the base64 text, validated. */
export function publicKeyB64(value: unknown, path: string): string {
  const text = str({ maxLength: 44 })(value, path);
  publicKeyBytes(text, path);
  return text;
}

/** Turns a `{keyid, public_key}` pair into the entry the DSSE verifier takes. */
export function toPublicKeyEntry(key: { keyid: string; public_key: string }): PublicKeyEntry {
  return { keyid: key.keyid, publicKey: publicKeyBytes(key.public_key, "public_key") };
}
