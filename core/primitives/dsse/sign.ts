/**
 * Signing of every statement kind: serialise once, sign the PAE of the exact bytes.
 *
 * @module
 */
import { toBase64, utf8 } from "../crypto/bytes.ts";
import type { SigningKey } from "../crypto/ed25519.ts";
import { pae } from "./pae.ts";

/** Options for {@linkcode signStatement}. */
export interface SignOptions {
  payloadType: string;
  /** The exact payload bytes, or a value serialised with `JSON.stringify`. */
  payload: Uint8Array<ArrayBuffer> | Record<string, unknown>;
  signers: readonly SigningKey[];
}

/**
 * Signs a payload with each signer and returns the DSSE envelope as UTF-8 JSON bytes.
 *
 * @example
 * ```ts
 * import { signStatement } from "./sign.ts";
 * import { generateSeed, SigningKey } from "../crypto/ed25519.ts";
 * const key = await SigningKey.fromSeed(generateSeed());
 * const bytes = await signStatement({ payloadType: "t", payload: { a: 1 }, signers: [key] });
 * if (bytes.byteLength === 0) throw new Error();
 * ```
 */
export async function signStatement(options: SignOptions): Promise<Uint8Array<ArrayBuffer>> {
  const payload = options.payload instanceof Uint8Array
    ? options.payload
    : utf8(JSON.stringify(options.payload));
  const message = pae(options.payloadType, payload);
  const signatures = [];
  for (const signer of options.signers) {
    signatures.push({ keyid: signer.keyid, sig: toBase64(await signer.sign(message)) });
  }
  return utf8(JSON.stringify({
    payloadType: options.payloadType,
    payload: toBase64(payload),
    signatures,
  }));
}

/** Adds signatures to an existing envelope (k-of-n ceremonies sign one key at a time). */
export async function addSignatures(
  envelope: {
    payloadType: string;
    payload: Uint8Array<ArrayBuffer>;
    signatures: { keyid: string; sig: Uint8Array }[];
  },
  signers: readonly SigningKey[],
): Promise<Uint8Array<ArrayBuffer>> {
  const message = pae(envelope.payloadType, envelope.payload);
  const signatures = envelope.signatures.map((s) => ({ keyid: s.keyid, sig: toBase64(s.sig) }));
  for (const signer of signers) {
    signatures.push({ keyid: signer.keyid, sig: toBase64(await signer.sign(message)) });
  }
  return utf8(JSON.stringify({
    payloadType: envelope.payloadType,
    payload: toBase64(envelope.payload),
    signatures,
  }));
}
