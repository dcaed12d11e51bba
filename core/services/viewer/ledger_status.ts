/**
 * The ledger page's facts: the latest checkpoint the witnesses cosigned (the
 * operators' copy `audit/checkpoint`, verified against the supervisor's keys and
 * the witness policy the supervisor handed over) and a full verification the
 * operator can trigger against it. The viewer cannot reach the witnesses (it may
 * open no connection), so `saoe audit verify`, which asks them, is the check of
 * record; this page shows what the ledger and its witnessed copy say. Nothing in
 * `audit/` vouches for itself: the keys come from the agent key directory, after
 * the trust root chain verifies from the pin, again for each request.
 *
 * @module
 */
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import { toHex } from "../../primitives/crypto/bytes.ts";
import { type HomeLayout, ledgerPath, witnessedCheckpointPath } from "../../domain/home/layout.ts";
import {
  type CheckpointHead,
  MAX_CHECKPOINT_BYTES,
  verifyWitnessedCheckpoint,
  type WitnessPolicy,
} from "../../domain/ledger/checkpoint.ts";
import { logOrigin } from "../../domain/ledger/log_identity.ts";
import { type LedgerVerification, verifyLedger } from "../../domain/ledger/verify.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { checkpointKeySet, verifyTrustFolder } from "../../domain/trust/verified_trust.ts";
import type { VersionStore } from "../../domain/trust/version_store.ts";
import { readRegularFile } from "../deployment/safe_file.ts";

/** What the viewer needs to trust checkpoints. */
export interface LedgerTrustOptions {
  home: HomeLayout;
  /** Hex SHA-256 of trust root v1 (from the handover). */
  rootPin: string;
  skewMs: number;
  clock: Clock;
  /** Rollback protection for the root chain and directory (the viewer's own store). */
  versionStore: VersionStore;
  /** The witness policy (from the handover); none: nothing is shown as witnessed. */
  witnesses?: WitnessPolicy;
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

/** The latest witnessed checkpoint as `audit/checkpoint` states it. */
export type LastCheckpoint =
  | { state: "none" }
  | { state: "verified"; treeSize: number; root: string; cosigners: string[] }
  | { state: "invalid"; message: string };

async function witnessedHead(
  options: LedgerTrustOptions,
  keys: TrustedKeySet,
): Promise<CheckpointHead & { cosigners: string[] } | undefined> {
  const policy = options.witnesses;
  if (policy === undefined) return undefined;
  const path = witnessedCheckpointPath(options.home);
  if ((await Deno.lstat(path).catch(() => undefined)) === undefined) return undefined;
  const bytes = await readRegularFile(path, MAX_CHECKPOINT_BYTES);
  const head = await verifyWitnessedCheckpoint(bytes, {
    origin: logOrigin(options.rootPin),
    logKeys: keys,
    policy,
    what: "audit/checkpoint",
  });
  return { ...head, cosigners: head.cosigners.map((c) => c.name) };
}

/** Reads and verifies the latest witnessed checkpoint. */
export async function lastCheckpoint(options: LedgerTrustOptions): Promise<LastCheckpoint> {
  try {
    const head = await witnessedHead(options, await checkpointKeys(options));
    if (head === undefined) return { state: "none" };
    return {
      state: "verified",
      treeSize: head.size,
      root: toHex(head.root),
      cosigners: head.cosigners,
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
 * Runs `verifyLedger` read-only against the witnessed checkpoint. A failure to
 * load trust or open the ledger is reported as a broken result, never thrown:
 * the page shows it.
 */
export async function runVerification(options: LedgerTrustOptions): Promise<VerificationRun> {
  let result: LedgerVerification;
  try {
    const keys = await checkpointKeys(options);
    const witnessed = await witnessedHead(options, keys);
    result = await verifyLedger({
      path: ledgerPath(options.home),
      origin: logOrigin(options.rootPin),
      logKeys: keys,
      ...(witnessed !== undefined
        ? {
          witnessed,
          witnessedSource: `the witnessed checkpoint (${witnessed.cosigners.join(", ")})`,
        }
        : {}),
    });
  } catch (err: unknown) {
    result = {
      ok: false,
      size: 0,
      checked: 0,
      checkpoints: 0,
      witnessedSize: 0,
      unwitnessed: 0,
      message: `Cannot verify the ledger: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  return { result, finishedMs: options.clock.now() };
}
