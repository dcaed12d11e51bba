/**
 * The trust state every reader of a home verifies the same way: the root chain
 * walked from the pinned v1, then the dispatcher-signed agent key directory
 * against the root in force, both checked against a version store for
 * rollback. Agents, the viewer and the CLI all load it through
 * {@linkcode verifyTrustFolder}; the keys trusted to sign ledger checkpoints
 * come from it through {@linkcode checkpointKeySet}.
 *
 * @module
 */
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import { SUPERVISOR_ID } from "../home/layout.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { AgentDirectory } from "./agent_directory.ts";
import { type VerifiedRoot, verifyRootChain } from "./chain.ts";
import { verifyDirectory } from "./directory.ts";
import { loadRootChain, readDirectoryFile } from "./files.ts";
import type { VersionStore } from "./version_store.ts";

/** A verified root and key directory. */
export interface VerifiedTrust {
  root: VerifiedRoot;
  directory: AgentDirectory;
}

/** Options for {@linkcode verifyTrustFolder}. */
export interface VerifyTrustFolderOptions {
  /** The home's `trust/` folder. */
  trustDir: string;
  /** Hex SHA-256 of trust root v1. */
  rootPin: string;
  clock: Clock;
  skewMs: number;
  /** Rollback protection for the root and the directory. */
  versionStore: VersionStore;
}

/**
 * Verifies the root chain from the pin, then the key directory against the root
 * in force; throws the refusal of the first check that fails.
 *
 * @example
 * ```ts ignore
 * const { root, directory } = await verifyTrustFolder({ trustDir, rootPin, clock, skewMs, versionStore });
 * ```
 */
export async function verifyTrustFolder(options: VerifyTrustFolderOptions): Promise<VerifiedTrust> {
  const { clock, skewMs, versionStore } = options;
  const root = await verifyRootChain({
    roots: await loadRootChain(options.trustDir),
    pin: options.rootPin,
    clock,
    skewMs,
    versionStore,
  });
  const directory = await verifyDirectory(await readDirectoryFile(options.trustDir), {
    root,
    clock,
    skewMs,
    versionStore,
  });
  return { root, directory };
}

/**
 * The keys trusted to sign ledger checkpoints: every key the verified directory
 * lists for the supervisor, current or past its window (a checkpoint vouches
 * for history signed while its key was valid; a compromised key is revoked by
 * removing it from the directory, which drops it here too).
 *
 * @example
 * ```ts ignore
 * const keys = checkpointKeySet(directory, Date.now());
 * ```
 */
export function checkpointKeySet(directory: AgentDirectory, nowMs: number): TrustedKeySet {
  const keys = directory.senderKeys(SUPERVISOR_ID, nowMs);
  const all = keys.status === "ok"
    ? [...keys.current, ...keys.retired]
    : keys.status === "revoked"
    ? [...keys.retired]
    : [];
  return { name: "supervisor checkpoint key", keys: all, threshold: 1 };
}
