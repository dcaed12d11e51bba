/**
 * Byte helpers every signed-statement path shares: strict base64, hex, UTF-8,
 * SHA-256 and the one constant-time comparison for digests and secrets.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";

const ENCODER = new TextEncoder();
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Encodes a string as UTF-8. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return ENCODER.encode(text);
}

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/**
 * Decodes canonical standard base64 (padding required, no whitespace, zero pad bits);
 * anything else is a `parse_error`, so one signature has exactly one encoding.
 */
export function fromBase64(text: string, what = "base64 value"): Uint8Array<ArrayBuffer> {
  if (!B64_RE.test(text)) {
    throw new SaoeError("parse_error", `Invalid ${what}: not canonical base64`);
  }
  let out: Uint8Array<ArrayBuffer>;
  try {
    out = Uint8Array.fromBase64(text, { lastChunkHandling: "strict" });
  } catch {
    throw new SaoeError("parse_error", `Invalid ${what}: not canonical base64`);
  }
  return out;
}

/** Lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return bytes.toHex();
}

/** Decodes lowercase hex; anything else is a `parse_error`. */
export function fromHex(text: string, what = "hex value"): Uint8Array<ArrayBuffer> {
  if (!HEX_RE.test(text)) throw new SaoeError("parse_error", `Invalid ${what}: not lowercase hex`);
  return Uint8Array.fromHex(text);
}

/** SHA-256 of `bytes`. */
export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** SHA-256 of `bytes` as lowercase hex. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(await sha256(bytes));
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Compares two byte strings in time that depends only on their lengths: the one
 * place SAOE compares digests, pins and credentials (a timing side channel would
 * let an attacker guess a pin byte by byte).
 *
 * @example
 * ```ts
 * import { constantTimeEqual } from "./bytes.ts";
 * if (!constantTimeEqual(new Uint8Array([1]), new Uint8Array([1]))) throw new Error();
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Constant-time comparison of two strings by their UTF-8 bytes. */
export function constantTimeEqualText(a: string, b: string): boolean {
  return constantTimeEqual(utf8(a), utf8(b));
}
