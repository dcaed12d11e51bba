/**
 * Everything an agent needs to validate envelopes, loaded from its home with only
 * the permissions its capability set grants: the trust root chain (walked from
 * the pin the supervisor handed over), the agent key directory, the vault opened
 * with the agent's own age identity, and the capability sets of the agent and its
 * peers. Nothing here trusts a byte before its signature verifies.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { VerifiedRoot } from "../../domain/trust/chain.ts";
import { verifyTrustFolder } from "../../domain/trust/verified_trust.ts";
import type { AgentDirectory } from "../../domain/trust/agent_directory.ts";
import type { VersionStore } from "../../domain/trust/version_store.ts";
import { assertTrustFloor, EMPTY_FLOOR } from "../../domain/trust/trust_floor.ts";
import { directoryFile } from "../../domain/trust/files.ts";
import { openVault, type VaultReader } from "../../domain/vault/reader.ts";
import { CapsetStore } from "../../domain/capset/store.ts";
import { verifyCapset } from "../../domain/capset/verify.ts";
import type { Capset } from "../../domain/capset/types.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";

/** Options for {@linkcode loadAgentTrust}. */
export interface LoadAgentTrustOptions {
  home: HomeLayout;
  agent: string;
  /** The agent's age identity (handed over by the supervisor). */
  ageIdentity: string;
  /** Hex SHA-256 of trust root v1 (handed over by the supervisor). */
  rootPin: string;
  clock: Clock;
  skewMs: number;
  /** Rollback protection for root, directory and capsets. */
  versionStore: VersionStore;
  /**
   * Key ids (hex SHA-256 of the public key) the audit ledger records as
   * revoked: a directory listing one as current is refused as `rollback`.
   */
  revokedKeyIds?: readonly string[];
}

/** The verified trust state of one agent. */
export interface AgentTrust {
  root: VerifiedRoot;
  directory: AgentDirectory;
  vault: VaultReader;
  capsets: CapsetStore;
  /** The agent's own verified capability set at load time. */
  capset: Capset;
}

/**
 * Loads and verifies the trust state of `agent`.
 *
 * @example
 * ```ts ignore
 * import { loadAgentTrust } from "./agent_trust.ts";
 * const trust = await loadAgentTrust({ home, agent: "planner", ageIdentity, rootPin, clock, skewMs, versionStore });
 * ```
 */
export async function loadAgentTrust(options: LoadAgentTrustOptions): Promise<AgentTrust> {
  const { home, agent, clock, skewMs, versionStore } = options;
  const { root, directory } = await verifyTrustFolder({
    trustDir: home.trust,
    rootPin: options.rootPin,
    clock,
    skewMs,
    versionStore,
  });
  if (options.revokedKeyIds !== undefined && options.revokedKeyIds.length > 0) {
    await assertTrustFloor(
      { versions: {}, directory, fileOf: () => directoryFile(home.trust) },
      { ...EMPTY_FLOOR, revoked: options.revokedKeyIds },
      clock.now(),
    );
  }
  const vault = await openVault({
    dir: home.vault,
    identity: options.ageIdentity,
    dispatcher: root.trusted,
    clock,
    skewMs,
  });
  const ownBytes = await vault.readCapset(agent);
  const capset = await verifyCapset(ownBytes, {
    dispatcher: root.trusted,
    clock,
    skewMs,
    versionStore,
    expectedAgent: agent,
  });
  const bytes = new Map<string, Uint8Array>([[agent, ownBytes]]);
  const peers = new Set([...capset.receives.map((r) => r.from), ...capset.sends.map((s) => s.to)]);
  for (const peer of peers) {
    try {
      bytes.set(peer, await vault.readCapset(peer));
    } catch (e: unknown) {
      throw new SaoeError(
        "capset_signature",
        `Cannot load the capability set of peer "${peer}" for agent "${agent}": ${
          e instanceof Error ? e.message : String(e)
        }`,
        { agent },
        { cause: e },
      );
    }
  }
  const capsets = new CapsetStore({
    capsets: bytes,
    dispatcher: root.trusted,
    clock,
    skewMs,
    versionStore,
  });
  return { root, directory, vault, capsets, capset };
}
