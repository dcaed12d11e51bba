/**
 * Shared fixtures of the ledger tests: a temp ledger folder, a checkpoint key and
 * its trusted set, realistic events, and an attacker's own SQLite connection.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import type { TrustedKeySet } from "../../../core/primitives/dsse/types.ts";
import { type Ledger, openLedger } from "../../../core/domain/ledger/ledger.ts";
import { buildEvent, encodeEvent } from "../../../core/domain/ledger/events.ts";
import { type LedgerVerification, verifyLedger } from "../../../core/domain/ledger/verify.ts";
import { systemClock } from "../../../core/primitives/time/clock.ts";

/** A temp ledger folder with its paths; `cleanup()` removes it. */
export interface LedgerDir {
  dir: string;
  path: string;
  anchorPath: string;
  cleanup(): Promise<void>;
}

/** Creates a temp folder laid out like `<home>/audit/`. */
export async function ledgerDir(): Promise<LedgerDir> {
  const dir = await Deno.makeTempDir({ prefix: "saoe_ledger_" });
  return {
    dir,
    path: `${dir}/audit/ledger.db`,
    anchorPath: `${dir}/anchor/checkpoint.json`,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** A fresh checkpoint key. */
export function newKey(): Promise<SigningKey> {
  return SigningKey.fromSeed(generateSeed());
}

/** The trusted set holding only `key`. */
export function trusted(key: SigningKey): TrustedKeySet {
  return { name: "ledger checkpoint key", keys: [key], threshold: 1 };
}

/** The exact bytes of a realistic event number `i`. */
export function eventBytes(i: number): Uint8Array<ArrayBuffer> {
  return encodeEvent(buildEvent({
    type: i % 7 === 0 ? "rejected" : "validated",
    agent: "planner",
    session_id: crypto.randomUUID(),
    envelope_id: crypto.randomUUID(),
    ...(i % 7 === 0 ? { reason: "bad_signature" as const } : {}),
    detail: { n: i },
  }));
}

/** Appends `count` events in batches of `batch`. */
export function fill(ledger: Ledger, count: number, batch = 100): void {
  const start = ledger.head().size;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    ledger.append(Array.from({ length: n }, (_, i) => eventBytes(start + done + i + 1)));
  }
}

/**
 * Builds a closed ledger of `size` records with checkpoints at each tree size in
 * `checkpointsAt` (ascending).
 */
export async function buildLedger(
  d: LedgerDir,
  key: SigningKey,
  options: { size: number; checkpointsAt: readonly number[] },
): Promise<void> {
  const ledger = await openLedger({ path: d.path, anchorPath: d.anchorPath, checkpointKey: key });
  try {
    for (const at of options.checkpointsAt) {
      fill(ledger, at - ledger.head().size, 50);
      await ledger.checkpoint();
    }
    fill(ledger, options.size - ledger.head().size, 50);
  } finally {
    ledger.close();
  }
}

/** Verifies the ledger of `d` with `key` trusted, at the real time. */
export function verify(d: LedgerDir, key: SigningKey): Promise<LedgerVerification> {
  return verifyLedger({
    path: d.path,
    anchorPath: d.anchorPath,
    checkpointKeys: trusted(key),
    clock: systemClock,
  });
}

/** An attacker's own read-write SQLite connection to the database file. */
export function attacker(d: LedgerDir): DatabaseSync {
  return new DatabaseSync(d.path);
}

/** A record's columns as the attacker reads them. */
export interface RawRecord {
  seq: number;
  prev_hash: Uint8Array;
  hash: Uint8Array;
  bytes: Uint8Array;
}

/** Reads one record with the attacker's connection. */
export function rawRecord(db: DatabaseSync, seq: number): RawRecord {
  const row = db.prepare("SELECT seq, prev_hash, hash, bytes FROM records WHERE seq = ?").get(seq);
  if (row === undefined) throw new Error(`no record ${seq}`);
  return row as unknown as RawRecord;
}
