/**
 * Builds the one-line handover the supervisor writes to an agent's stdin: its
 * secrets from the key store and the settings it cannot read itself.
 *
 * @module
 */
import { toBase64, utf8 } from "../../primitives/crypto/bytes.ts";
import type { HomeConfig } from "../../domain/home/config.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import type { KeyStore } from "../../domain/keys/keystore.ts";
import type { TrustFloor } from "../../domain/trust/trust_floor.ts";
import {
  type Handover,
  MAX_HANDOVER_FLOOR_KEYS,
  MAX_HANDOVER_REVOKED,
} from "../runtime/protocol.ts";

/** Options for {@linkcode buildHandover}. */
export interface BuildHandoverOptions {
  agent: string;
  home: HomeLayout;
  repo: string;
  config: HomeConfig;
  keys: KeyStore;
  /** The viewer's origin (`http://127.0.0.1:PORT`), handed to intake for its links. */
  viewerUrl?: string;
  /**
   * The trust floor in force (the ledger's mark, raised by what the supervisor
   * verified): the agent's version store refuses anything below it.
   */
  trustFloor?: TrustFloor;
}

/**
 * What of `floor` an agent's version store uses (the root, the directory, the
 * capability sets) and the newest revoked key ids, within the handover's limits.
 */
export function handoverFloor(floor: TrustFloor): NonNullable<Handover["trust_floor"]> {
  const versions: Record<string, number> = {};
  const keys = Object.keys(floor.versions)
    .filter((k) => k === "root" || k === "directory" || k.startsWith("capset:"))
    .sort()
    .slice(0, MAX_HANDOVER_FLOOR_KEYS);
  for (const key of keys) {
    Object.defineProperty(versions, key, {
      value: floor.versions[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { versions, revoked_keyids: floor.revoked.slice(-MAX_HANDOVER_REVOKED) };
}

/**
 * Returns the handover line (UTF-8, newline-terminated). The caller writes it to
 * the agent's stdin, zeroes the bytes and keeps the pipe open while the agent
 * runs (its end tells the agent the supervisor is gone).
 */
export async function buildHandover(
  options: BuildHandoverOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const secrets = await options.keys.loadAgent(options.agent);
  const handover: Handover = {
    format: 1,
    agent: options.agent,
    home: options.home.root,
    repo: options.repo,
    root_pin: options.config.root_pin,
    skew_ms: options.config.skew_ms,
    ed25519_seed: toBase64(secrets.seed),
    age_identity: secrets.ageIdentity,
    reconcile_ms: options.config.reconcile_ms,
    ...(options.trustFloor !== undefined ? { trust_floor: handoverFloor(options.trustFloor) } : {}),
    ...(options.agent === "viewer" && options.config.witnesses !== undefined
      ? {
        witnesses: {
          threshold: options.config.witnesses.threshold,
          list: options.config.witnesses.list.map((w) => ({ name: w.name, vkey: w.vkey })),
        },
      }
      : {}),
    ...(options.agent === "intake"
      ? {
        operator_tokens: options.config.operator_tokens,
        intake: options.config.intake,
        ...(options.viewerUrl !== undefined ? { viewer_url: options.viewerUrl } : {}),
      }
      : {}),
  };
  secrets.seed.fill(0);
  return utf8(`${JSON.stringify(handover)}\n`);
}
