/**
 * Which dispatcher seeds may sign for a home: only those whose public key the
 * verified trust root in force lists, and at least its threshold of them. A seed
 * of a retired root (or of another home) would produce statements every verifier
 * refuses with `dispatcher_signature`, so it is refused here, before the
 * operator confirms anything.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { toHex } from "../../primitives/crypto/bytes.ts";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";

/** Options for {@linkcode dispatcherSigners}. */
export interface DispatcherSignersOptions {
  /** The dispatcher key set of the verified root in force. */
  trusted: TrustedKeySet;
  /** Candidate seeds (from the key store or an offline export). Zeroed after import. */
  seeds: readonly Uint8Array<ArrayBuffer>[];
  /** Where the seeds came from, for messages (`the key store`, a file name). */
  from: string;
}

/**
 * The signing keys among `seeds` that the root lists (each key once). Throws
 * `bad_threshold` when fewer than the root's threshold are present.
 *
 * @example
 * ```ts
 * import { dispatcherSigners } from "./dispatcher_signers.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const seed = generateSeed();
 * const key = await SigningKey.fromSeed(seed);
 * const signers = await dispatcherSigners({
 *   trusted: { name: "dispatcher root v1", keys: [key], threshold: 1 },
 *   seeds: [seed, generateSeed()],
 *   from: "the key store",
 * });
 * if (signers.length !== 1 || signers[0]!.keyid !== key.keyid) throw new Error();
 * ```
 */
export async function dispatcherSigners(
  options: DispatcherSignersOptions,
): Promise<SigningKey[]> {
  const listed = new Set(options.trusted.keys.map((k) => toHex(k.publicKey)));
  const chosen = new Map<string, SigningKey>();
  for (const seed of options.seeds) {
    const key = await SigningKey.fromSeed(seed);
    seed.fill(0);
    const hex = toHex(key.publicKey);
    if (listed.has(hex) && !chosen.has(hex)) chosen.set(hex, key);
  }
  if (chosen.size < options.trusted.threshold) {
    throw new SaoeError(
      "bad_threshold",
      `Cannot sign with the dispatcher keys from ${options.from}: ${chosen.size} of its ${options.seeds.length} keys are listed by ${options.trusted.name}, which needs ${options.trusted.threshold}`,
    );
  }
  return [...chosen.values()];
}
