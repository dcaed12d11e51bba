/**
 * The operator's view of a home's trust state: the root chain walked from the
 * pin in `config.json`, the dispatcher-signed agent key directory, and from it
 * the keys trusted to sign ledger checkpoints (the supervisor's).
 *
 * Rollback protection: the CLI checks versions against the supervisor's own
 * version store (`agents/supervisor/store/versions.json`) but never raises it: it
 * is a reader, and only the supervisor decides what it has accepted.
 *
 * @module
 */
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import type { HomeConfig } from "../home/config.ts";
import type { HomeLayout } from "../home/layout.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { VerifiedRoot } from "./chain.ts";
import { checkpointKeySet, verifyTrustFolder } from "./verified_trust.ts";
import type { AgentDirectory } from "./agent_directory.ts";

import { supervisorVersionsPath } from "../home/layout.ts";
import { ReadOnlyVersionStore } from "./version_store_readonly.ts";

/** A home's verified trust state. */
export interface HomeTrust {
  root: VerifiedRoot;
  directory: AgentDirectory;
}

/** Options for {@linkcode verifyHomeTrust}. */
export interface VerifyHomeTrustOptions {
  home: HomeLayout;
  config: HomeConfig;
  clock: Clock;
}

/**
 * Verifies the root chain from the pin, then the key directory against the root
 * in force; throws the refusal of the first check that fails.
 *
 * @example
 * ```ts ignore
 * const { root, directory } = await verifyHomeTrust({ home, config, clock: systemClock });
 * ```
 */
export function verifyHomeTrust(options: VerifyHomeTrustOptions): Promise<HomeTrust> {
  const { home, config, clock } = options;
  return verifyTrustFolder({
    trustDir: home.trust,
    rootPin: config.root_pin,
    clock,
    skewMs: config.skew_ms,
    versionStore: new ReadOnlyVersionStore(supervisorVersionsPath(home)),
  });
}

/**
 * The keys trusted to sign this home's ledger checkpoints: every key the verified
 * directory lists for the supervisor, current or past its window (a checkpoint
 * vouches for history signed while its key was valid; a compromised key is
 * revoked by removing it from the directory, which drops it here too).
 *
 * @example
 * ```ts ignore
 * const keys = checkpointKeys(directory, Date.now());
 * ```
 */
export function checkpointKeys(directory: AgentDirectory, nowMs: number): TrustedKeySet {
  return checkpointKeySet(directory, nowMs);
}
