/**
 * Ed25519 witness cosignatures, cosignature/v1 of c2sp.org/tlog-cosignature
 * (signature type 0x04): a note signature whose bytes are a big-endian u64
 * POSIX timestamp followed by an Ed25519 signature over
 * `cosignature/v1\ntime <timestamp>\n` and the whole checkpoint text.
 *
 * A cosignature states that, at that time, the checkpoint was the largest
 * consistent tree head the cosigner had seen for the log; this module only
 * makes and checks the signature. Cosigning refuses text that is not a valid
 * checkpoint; verifying trusts nothing but the configured public key.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { concatBytes, utf8 } from "../crypto/bytes.ts";
import {
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  type SigningKey,
  verifyEd25519,
} from "../crypto/ed25519.ts";
import { parseCheckpoint } from "./checkpoint.ts";
import { keyIdOf, SIG_TYPE_COSIGNATURE_V1 } from "./key_id.ts";
import type { NoteSignature, Verifier } from "./note.ts";
import { checkKeyName } from "./text.ts";

/** Length of a cosignature/v1 signature after its key ID: timestamp and Ed25519 signature. */
export const COSIGNATURE_BYTES = 8 + SIGNATURE_BYTES;
const MAX_TIMESTAMP = 2n ** 63n - 1n;

function checkPublicKey(publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES) {
    throw new SaoeError(
      "parse_error",
      `Invalid Ed25519 public key: expected ${PUBLIC_KEY_BYTES} bytes`,
    );
  }
}

function header(timestamp: bigint | number): Uint8Array<ArrayBuffer> {
  return utf8(`cosignature/v1\ntime ${timestamp}\n`);
}

/**
 * The key ID of an Ed25519 cosigner: SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4].
 *
 * @example
 * ```ts
 * import { cosignatureKeyId } from "./cosignature.ts";
 * import { keyIdOf } from "./key_id.ts";
 * const key = new Uint8Array(32).fill(9);
 * if (cosignatureKeyId("witness.example/w", key) !== keyIdOf("witness.example/w", 4, key)) throw new Error();
 * ```
 */
export function cosignatureKeyId(name: string, publicKey: Uint8Array): number {
  checkPublicKey(publicKey);
  return keyIdOf(name, SIG_TYPE_COSIGNATURE_V1, publicKey);
}

/**
 * The exact bytes a cosignature/v1 signs: the header line, the timestamp line
 * and the checkpoint text. Refuses text that is not a valid checkpoint and a
 * timestamp that is not a safe non-negative integer.
 *
 * @example
 * ```ts
 * import { cosignatureMessage } from "./cosignature.ts";
 * const cp = "example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
 * const msg = new TextDecoder().decode(cosignatureMessage(cp, 1679315147));
 * if (msg !== `cosignature/v1\ntime 1679315147\n${cp}`) throw new Error();
 * ```
 */
export function cosignatureMessage(
  checkpointText: string,
  timestamp: number,
): Uint8Array<ArrayBuffer> {
  parseCheckpoint(checkpointText);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new SaoeError(
      "parse_error",
      `Invalid cosignature timestamp ${timestamp}: not a safe non-negative integer`,
    );
  }
  return concatBytes(header(timestamp), utf8(checkpointText));
}

/**
 * Cosigns a checkpoint at `timestamp` (POSIX seconds).
 *
 * @example
 * ```ts
 * import { SigningKey } from "../crypto/ed25519.ts";
 * import { cosignatureTimestamp, cosignCheckpoint } from "./cosignature.ts";
 * const key = await SigningKey.fromSeed(new Uint8Array(32).fill(5));
 * const cp = "example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
 * const sig = await cosignCheckpoint(cp, { name: "witness.example/w", key, timestamp: 1700000000 });
 * if (sig.bytes.byteLength !== 72 || cosignatureTimestamp(sig) !== 1700000000) throw new Error();
 * ```
 */
export async function cosignCheckpoint(
  checkpointText: string,
  o: { name: string; key: SigningKey; timestamp: number },
): Promise<NoteSignature> {
  checkKeyName(o.name);
  const message = cosignatureMessage(checkpointText, o.timestamp);
  const signature = await o.key.sign(message);
  const bytes = new Uint8Array(COSIGNATURE_BYTES);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(o.timestamp));
  bytes.set(signature, 8);
  return { name: o.name, keyId: cosignatureKeyId(o.name, o.key.publicKey), bytes };
}

/**
 * A {@linkcode Verifier} of cosignature/v1 signatures by `publicKey` under
 * `name`, for use with `verifyNote`. A signature that is not 72 bytes or whose
 * timestamp exceeds 2^63 - 1 does not verify.
 *
 * @example
 * ```ts
 * import { SigningKey } from "../crypto/ed25519.ts";
 * import { cosignatureVerifier, cosignCheckpoint } from "./cosignature.ts";
 * import { verifyNote } from "./note.ts";
 * const key = await SigningKey.fromSeed(new Uint8Array(32).fill(5));
 * const cp = "example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
 * const sig = await cosignCheckpoint(cp, { name: "witness.example/w", key, timestamp: 1 });
 * const v = cosignatureVerifier("witness.example/w", key.publicKey);
 * const names = await verifyNote({ text: cp, signatures: [sig] }, [v]);
 * if (names[0] !== "witness.example/w") throw new Error();
 * ```
 */
export function cosignatureVerifier(name: string, publicKey: Uint8Array): Verifier {
  checkKeyName(name);
  checkPublicKey(publicKey);
  const key = new Uint8Array(publicKey);
  return Object.freeze({
    name,
    keyId: keyIdOf(name, SIG_TYPE_COSIGNATURE_V1, key),
    verify: async (text: Uint8Array, sig: Uint8Array): Promise<boolean> => {
      if (!(sig instanceof Uint8Array) || sig.byteLength !== COSIGNATURE_BYTES) return false;
      const timestamp = new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0);
      if (timestamp > MAX_TIMESTAMP) return false;
      return await verifyEd25519(key, concatBytes(header(timestamp), text), sig.slice(8));
    },
  });
}

/**
 * The timestamp (POSIX seconds) of a cosignature/v1 signature. Refuses bytes
 * that are not 72 long and a timestamp beyond 2^53 - 1 (`parse_error`); says
 * nothing about whether the signature verifies.
 *
 * @example
 * ```ts
 * import { cosignatureTimestamp } from "./cosignature.ts";
 * const bytes = new Uint8Array(72);
 * new DataView(bytes.buffer).setBigUint64(0, 1679315147n);
 * if (cosignatureTimestamp({ name: "w", keyId: 0, bytes }) !== 1679315147) throw new Error();
 * ```
 */
export function cosignatureTimestamp(sig: NoteSignature): number {
  const bytes = sig?.bytes;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== COSIGNATURE_BYTES) {
    throw new SaoeError(
      "parse_error",
      `Invalid cosignature: expected ${COSIGNATURE_BYTES} bytes after the key ID`,
    );
  }
  const timestamp = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SaoeError(
      "parse_error",
      `Invalid cosignature: timestamp ${timestamp} is beyond 2^53 - 1`,
    );
  }
  return Number(timestamp);
}
