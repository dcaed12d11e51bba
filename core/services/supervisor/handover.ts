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
import type { Handover } from "../runtime/protocol.ts";

/** Options for {@linkcode buildHandover}. */
export interface BuildHandoverOptions {
  agent: string;
  home: HomeLayout;
  repo: string;
  config: HomeConfig;
  keys: KeyStore;
  /** The viewer's origin (`http://127.0.0.1:PORT`), handed to intake for its links. */
  viewerUrl?: string;
}

/**
 * Returns the handover line (UTF-8, newline-terminated). The caller writes it to
 * the agent's stdin, closes the pipe and zeroes the bytes.
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
