/**
 * DSSE pre-authentication encoding, exactly as the DSSE v1 protocol defines it:
 * `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal
 * bytes without leading zeros. Signing the PAE rather than the payload binds the
 * payload type, so a capability set can never be replayed as an envelope.
 *
 * @module
 */
import { concatBytes, utf8 } from "../crypto/bytes.ts";

/**
 * Builds the bytes a DSSE signature covers.
 *
 * @example
 * ```ts
 * import { pae } from "./pae.ts";
 * const bytes = pae("http://example.com/HelloWorld", new TextEncoder().encode("hello world"));
 * const text = new TextDecoder().decode(bytes);
 * if (text !== "DSSEv1 29 http://example.com/HelloWorld 11 hello world") throw new Error();
 * ```
 */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const type = utf8(payloadType);
  return concatBytes(
    utf8(`DSSEv1 ${type.byteLength} `),
    type,
    utf8(` ${payload.byteLength} `),
    payload,
  );
}
