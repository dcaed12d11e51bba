/**
 * A home's witness policy as its config names it (`config.json` `witnesses`):
 * each witness's key name, cosignature verifier key and URL, and how many must
 * cosign. Decoded once here for the supervisor and `saoe audit verify`.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { parseVkey } from "../../primitives/note/vkey.ts";
import type { HomeConfig } from "../../domain/home/config.ts";
import type { WitnessKey, WitnessPolicy } from "../../domain/ledger/checkpoint.ts";

/** Signature type of an Ed25519 cosignature/v1 verifier key. */
const COSIGNATURE_TYPE = 0x04;

/** A configured witness: its key and where it serves. */
export interface ConfiguredWitness extends WitnessKey {
  url: string;
  /** Its state directory, for a witness `saoe pipeline` starts on this machine. */
  state?: string;
}

/** The decoded policy, with the witnesses' URLs. */
export interface HomeWitnessPolicy extends WitnessPolicy {
  witnesses: readonly ConfiguredWitness[];
}

/** How to give a home a witness, for messages. */
export const ATTACH_HINT =
  'give the home a witness with "deno task saoe witness attach --home <home>" (a local one, with its state outside the home) or add one to config.json\'s "witnesses"';

/**
 * The witness policy of a home; `bad_config` when it has none (the supervisor
 * never runs a ledger no witness vouches for) or a key does not decode.
 *
 * @example
 * ```ts ignore
 * const policy = witnessPolicy(config);
 * console.log(policy.threshold, policy.witnesses.map((w) => w.url));
 * ```
 */
export function witnessPolicy(config: HomeConfig): HomeWitnessPolicy {
  const configured = config.witnesses;
  if (configured === undefined || configured.list.length === 0) {
    throw new SaoeError(
      "bad_config",
      `This home names no witness for its ledger, so nothing outside it vouches for the audit trail: ${ATTACH_HINT}`,
    );
  }
  const witnesses = configured.list.map((w, i): ConfiguredWitness => {
    let key;
    try {
      key = parseVkey(w.vkey);
    } catch (err: unknown) {
      throw new SaoeError(
        "bad_config",
        `config.json witnesses.list[${i}].vkey does not decode: ${
          err instanceof Error ? err.message : String(err)
        }`,
      );
    }
    if (key.type !== COSIGNATURE_TYPE || key.name !== w.name) {
      throw new SaoeError(
        "bad_config",
        `config.json witnesses.list[${i}]: the vkey must be the cosignature key (type 0x04) of "${w.name}", not of "${key.name}" type 0x${
          key.type.toString(16).padStart(2, "0")
        }`,
      );
    }
    return {
      name: w.name,
      publicKey: key.publicKey,
      url: w.url.replace(/\/+$/, ""),
      ...(w.state !== undefined ? { state: w.state } : {}),
    };
  });
  if (new Set(witnesses.map((w) => w.name)).size !== witnesses.length) {
    throw new SaoeError("bad_config", "config.json names a witness twice");
  }
  if (configured.threshold > witnesses.length) {
    throw new SaoeError(
      "bad_config",
      `config.json asks for ${configured.threshold} witness cosignatures but names ${witnesses.length} witnesses`,
    );
  }
  return { witnesses, threshold: configured.threshold };
}

/**
 * The witness policy of a handover (names and keys only, no URLs): what the
 * viewer verifies the witnessed checkpoint with.
 *
 * @example
 * ```ts ignore
 * const policy = handoverWitnessPolicy(ctx.handover.witnesses);
 * ```
 */
export function handoverWitnessPolicy(
  witnesses: { threshold: number; list: readonly { name: string; vkey: string }[] },
): WitnessPolicy {
  return {
    threshold: witnesses.threshold,
    witnesses: witnesses.list.map((w) => {
      const key = parseVkey(w.vkey);
      if (key.type !== COSIGNATURE_TYPE || key.name !== w.name) {
        throw new SaoeError(
          "bad_config",
          `The handover's witness key for ${w.name} does not match`,
        );
      }
      return { name: w.name, publicKey: key.publicKey };
    }),
  };
}
