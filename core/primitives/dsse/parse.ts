/**
 * Strict parsing of the DSSE wrapper: exactly `payloadType`, `payload` and
 * `signatures`, each signature exactly `keyid` and `sig`, canonical base64.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { fromBase64 } from "../crypto/bytes.ts";
import { arr, obj, str } from "../json/decode.ts";
import { parseStrictJson } from "../json/strict_parse.ts";
import type { DsseEnvelope } from "./types.ts";

/** Most signatures a statement may carry (bounds verification work). */
export const MAX_SIGNATURES = 16;

const wrapper = obj({
  payloadType: str({ maxLength: 128 }),
  payload: str({ maxLength: 64 * 1024 * 1024 }),
  signatures: arr(
    obj({ keyid: str({ maxLength: 128 }), sig: str({ maxLength: 128 }) }),
    MAX_SIGNATURES,
  ),
});

/**
 * Parses DSSE bytes. Size is checked before anything is decoded.
 *
 * @example
 * ```ts
 * import { parseDsse } from "./parse.ts";
 * const sig = new Uint8Array(64).toBase64();
 * const text = `{"payloadType":"t","payload":"aGk=","signatures":[{"keyid":"k","sig":"${sig}"}]}`;
 * const env = parseDsse(new TextEncoder().encode(text), 1024);
 * if (env.payload.byteLength !== 2 || env.signatures.length !== 1) throw new Error();
 * ```
 */
export function parseDsse(bytes: Uint8Array, maxBytes: number): DsseEnvelope {
  const raw = wrapper(parseStrictJson(bytes, { maxBytes, maxDepth: 4 }), "$");
  if (raw.signatures.length === 0) {
    throw new SaoeError("parse_error", "Invalid signed statement: it carries no signature");
  }
  return {
    payloadType: raw.payloadType,
    payload: fromBase64(raw.payload, "DSSE payload"),
    signatures: raw.signatures.map((s) => ({
      keyid: s.keyid,
      sig: fromBase64(s.sig, "DSSE signature"),
    })),
  };
}
