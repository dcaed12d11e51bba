/**
 * The ledger page's facts: the last signed checkpoint (the anchor file, verified)
 * and a full verification the operator can trigger. Both trust only the
 * supervisor's keys from the agent key directory, and the directory only after
 * the trust root chain verifies from the pin the supervisor handed over: nothing
 * in `audit/` vouches for itself. Trust is loaded again for each request, so a
 * rotated supervisor key is picked up without restarting the viewer.
 *
 * @module
 */
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import { anchorPath, type HomeLayout, ledgerPath } from "../../domain/home/layout.ts";
import { readAnchor, verifyCheckpoint } from "../../domain/ledger/checkpoint.ts";
import { type LedgerVerification, verifyLedger } from "../../domain/ledger/verify.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { checkpointKeySet, verifyTrustFolder } from "../../domain/trust/verified_trust.ts";
import type { VersionStore } from "../../domain/trust/version_store.ts";

/** What the viewer needs to trust checkpoints. */
export interface LedgerTrustOptions {
  home: HomeLayout;
  /** Hex SHA-256 of trust root v1 (from the handover). */
  rootPin: string;
  skewMs: number;
  clock: Clock;
  /** Rollback protection for the root chain and directory (the viewer's own store). */
  versionStore: VersionStore;
}

/**
 * The supervisor's checkpoint keys, current and retired (a checkpoint vouches
 * for history signed while its key was valid; a revoked key is gone from the
 * directory and so from this set).
 */
export async function checkpointKeys(options: LedgerTrustOptions): Promise<TrustedKeySet> {
  const { directory } = await verifyTrustFolder({
    trustDir: options.home.trust,
    rootPin: options.rootPin,
    clock: options.clock,
    skewMs: options.skewMs,
    versionStore: options.versionStore,
  });
  return checkpointKeySet(directory, options.clock.now());
}

/** The last checkpoint as the anchor file states it. */
export type LastCheckpoint =
  | { state: "none" }
  | { state: "verified"; treeSize: number; headHash: string; issuedAt: string }
  | { state: "invalid"; message: string };

/** Reads and verifies the anchor file (the latest checkpoint, kept outside the database). */
export async function lastCheckpoint(options: LedgerTrustOptions): Promise<LastCheckpoint> {
  try {
    const bytes = await readAnchor(anchorPath(options.home));
    if (bytes === undefined) return { state: "none" };
    const payload = await verifyCheckpoint(bytes, {
      keys: await checkpointKeys(options),
      clock: options.clock,
    });
    return {
      state: "verified",
      treeSize: payload.tree_size,
      headHash: payload.head_hash,
      issuedAt: payload.issued_at,
    };
  } catch (err: unknown) {
    return { state: "invalid", message: err instanceof Error ? err.message : String(err) };
  }
}

/** A verification run and when it finished. */
export interface VerificationRun {
  result: LedgerVerification;
  /** Epoch ms. */
  finishedMs: number;
}

/**
 * Runs `verifyLedger` read-only. A failure to load trust or open the ledger is
 * reported as a broken result, never thrown: the page shows it.
 */
export async function runVerification(options: LedgerTrustOptions): Promise<VerificationRun> {
  let result: LedgerVerification;
  try {
    result = await verifyLedger({
      path: ledgerPath(options.home),
      anchorPath: anchorPath(options.home),
      checkpointKeys: await checkpointKeys(options),
      clock: options.clock,
    });
  } catch (err: unknown) {
    result = {
      ok: false,
      size: 0,
      checked: 0,
      checkpoints: 0,
      message: `Cannot verify the ledger: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  return { result, finishedMs: options.clock.now() };
}
