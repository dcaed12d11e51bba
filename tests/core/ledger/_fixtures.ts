/**
 * Shared fixtures of the ledger tests: a temp ledger folder, a checkpoint key and
 * its trusted set, the log's origin, realistic events, a real witness (its state
 * made by `initWitnessState`, served in-process over real HTTP by `startWitness`,
 * checkpoints sent to it exactly as the supervisor sends them), verification
 * against what that witness vouches for, and an attacker's own SQLite connection
 * with the rewrites an attacker who can write the home can do.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import type { TrustedKeySet } from "../../../core/primitives/dsse/types.ts";
import { leafHash } from "../../../core/primitives/merkle/hash.ts";
import { MerkleFrontier } from "../../../core/primitives/merkle/tree.ts";
import { encodeVkey } from "../../../core/primitives/note/vkey.ts";
import { systemClock } from "../../../core/primitives/time/clock.ts";
import { chainHash, GENESIS_HASH } from "../../../core/domain/ledger/chain_hash.ts";
import type { WitnessedHead } from "../../../core/domain/ledger/checkpoint.ts";
import { signLedgerCheckpoint } from "../../../core/domain/ledger/checkpoint.ts";
import {
  type CheckpointWritten,
  type Ledger,
  openLedger,
} from "../../../core/domain/ledger/ledger.ts";
import { logOrigin } from "../../../core/domain/ledger/log_identity.ts";
import { buildEvent, encodeEvent } from "../../../core/domain/ledger/events.ts";
import { type LedgerVerification, verifyLedger } from "../../../core/domain/ledger/verify.ts";
import type { HomeWitnessPolicy } from "../../../core/services/witness/policy.ts";
import { startWitness, type WitnessServer } from "../../../core/services/witness/server.ts";
import { addWitnessLog, initWitnessState } from "../../../core/services/witness/state.ts";
import { witnessedMark } from "../../../core/services/witness/witnessed_head.ts";
import { Witnessing } from "../../../core/services/supervisor/witnessing.ts";

/** The origin line of the test log (as `logOrigin` derives it from a home's root pin). */
export const ORIGIN: string = logOrigin("5a".repeat(32));

/** A temp ledger folder with its paths; `cleanup()` removes it. */
export interface LedgerDir {
  dir: string;
  /** `<dir>/audit/ledger.db` */
  path: string;
  /** `<dir>/audit/checkpoint`, the operators' copy of the latest witnessed checkpoint. */
  witnessedPath: string;
  cleanup(): Promise<void>;
}

/** Creates a temp folder laid out like `<home>/audit/`. */
export async function ledgerDir(): Promise<LedgerDir> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe_ledger_" }));
  return {
    dir,
    path: `${dir}/audit/ledger.db`,
    witnessedPath: `${dir}/audit/checkpoint`,
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

/** Opens the ledger of `d` as its writer, with `key`, the origin and the operators' copy. */
export function openWriter(d: LedgerDir, key: SigningKey): Promise<Ledger> {
  return openLedger({
    path: d.path,
    checkpointKey: key,
    origin: ORIGIN,
    witnessedPath: d.witnessedPath,
  });
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

/** A real witness for the test log, served in-process on a port the system assigns. */
export interface TestWitness extends AsyncDisposable {
  server: WitnessServer;
  /** Its state directory (outside the ledger's folder). */
  state: string;
  /** A one-witness policy naming it, with its URL. */
  policy: HomeWitnessPolicy;
  /** What it logged. */
  logs: string[];
  /** Sends a checkpoint to it as the supervisor does; true when it cosigned and it was stored. */
  submit(ledger: Ledger, checkpoint: CheckpointWritten): Promise<boolean>;
  shutdown(): Promise<void>;
}

/**
 * Creates a witness state in `<d.dir>/witness`, registers the test log under
 * `key` with it and serves it.
 */
export async function startTestWitness(d: LedgerDir, key: SigningKey): Promise<TestWitness> {
  const state = `${d.dir}/witness`;
  const made = await initWitnessState({ dir: state, name: "witness.test/ledger" });
  await addWitnessLog({
    dir: state,
    origin: ORIGIN,
    vkey: encodeVkey(ORIGIN, 0x01, key.publicKey),
  });
  const logs: string[] = [];
  const server = await startWitness({ dir: state, port: 0, log: (line) => logs.push(line) });
  const policy: HomeWitnessPolicy = {
    threshold: 1,
    witnesses: [{ name: made.name, publicKey: made.publicKey, url: server.url }],
  };
  const shutdown = () => server.shutdown();
  return {
    server,
    state,
    policy,
    logs,
    async submit(ledger, checkpoint) {
      const witnessing = new Witnessing({
        ledger,
        policy,
        origin: ORIGIN,
        logKeys: trusted(key),
        sizes: new Map(),
        clock: systemClock,
        log: (line) => logs.push(line),
      });
      await witnessing.submit(checkpoint);
      await witnessing.close();
      return witnessing.witnessedSize >= checkpoint.treeSize;
    },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}

/**
 * Builds a closed ledger of `size` records with checkpoints at each tree size in
 * `checkpointsAt` (ascending), each sent to `witness` when one is given.
 */
export async function buildLedger(
  d: LedgerDir,
  key: SigningKey,
  options: { size: number; checkpointsAt: readonly number[]; witness?: TestWitness },
): Promise<void> {
  const ledger = await openWriter(d, key);
  try {
    for (const at of options.checkpointsAt) {
      fill(ledger, at - ledger.head().size, 50);
      const written = await ledger.checkpoint();
      if (options.witness !== undefined && !(await options.witness.submit(ledger, written))) {
        throw new Error(
          `the witness did not cosign size ${at}: ${options.witness.logs.join("\n")}`,
        );
      }
    }
    fill(ledger, options.size - ledger.head().size, 50);
  } finally {
    ledger.close();
  }
}

/** The ledger's own latest witnessed note, when it can be read at all (trusted by no one). */
async function storedWitnessed(d: LedgerDir): Promise<string | undefined> {
  try {
    const reader = await openLedger({ path: d.path, readOnly: true });
    try {
      return reader.latestWitnessed()?.note;
    } finally {
      reader.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * What `witness` vouches for, as `saoe audit verify` learns it: the witness is
 * asked, the ledger's stored record read, each verified with the log key and
 * the witness's key, the largest kept.
 */
export async function witnessedHead(
  d: LedgerDir,
  key: SigningKey,
  witness: TestWitness,
): Promise<{ head: WitnessedHead | undefined; source: string | undefined }> {
  const stored = await storedWitnessed(d);
  const mark = await witnessedMark({
    policy: witness.policy,
    origin: ORIGIN,
    logKeys: trusted(key),
    ...(stored !== undefined ? { stored } : {}),
  });
  return { head: mark.head, source: mark.source };
}

/**
 * Verifies the ledger of `d` with `key` trusted: against what `witness` vouches
 * for when one is given, else against the stored checkpoints alone.
 */
export async function verify(
  d: LedgerDir,
  key: SigningKey,
  witness?: TestWitness,
): Promise<LedgerVerification> {
  const mark = witness === undefined ? undefined : await witnessedHead(d, key, witness);
  return await verifyLedger({
    path: d.path,
    origin: ORIGIN,
    logKeys: trusted(key),
    ...(mark?.head !== undefined ? { witnessed: mark.head } : {}),
    ...(mark?.source !== undefined ? { witnessedSource: mark.source } : {}),
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

/** Re-computes every chain hash from `from` on, as an attacker who knows the algorithm can. */
export function rechain(db: DatabaseSync, from: number): void {
  let prev = from === 1 ? GENESIS_HASH : rawRecord(db, from - 1).hash;
  const rows = db.prepare("SELECT seq, bytes FROM records WHERE seq >= ? ORDER BY seq").all(from);
  const update = db.prepare("UPDATE records SET prev_hash = ?, hash = ? WHERE seq = ?");
  db.exec("BEGIN IMMEDIATE");
  for (const row of rows as unknown as { seq: number; bytes: Uint8Array }[]) {
    const hash = chainHash(prev, row.bytes);
    update.run(prev, hash, row.seq);
    prev = hash;
  }
  db.exec("COMMIT");
}

/** Rebuilds the whole Merkle table from the records as they are; returns the root. */
export function rebuildTree(db: DatabaseSync): Uint8Array {
  const frontier = new MerkleFrontier();
  const insert = db.prepare("INSERT INTO merkle(level, idx, hash) VALUES (?, ?, ?)");
  db.exec("BEGIN IMMEDIATE");
  db.exec("DELETE FROM merkle");
  const rows = db.prepare("SELECT bytes FROM records ORDER BY seq").all() as unknown as {
    bytes: Uint8Array;
  }[];
  for (const row of rows) {
    for (const n of frontier.push(leafHash(row.bytes))) insert.run(n.level, n.index, n.hash);
  }
  db.exec("COMMIT");
  return frontier.root();
}

/**
 * What an attacker holding the home's checkpoint key does after editing records:
 * every chain hash recomputed, the Merkle table rebuilt, every stored checkpoint
 * and witnessed record deleted, and the new head re-signed with the real key.
 * Returns the re-signed note.
 */
export async function resignEverything(db: DatabaseSync, key: SigningKey): Promise<string> {
  rechain(db, 1);
  const root = rebuildTree(db);
  const size = (db.prepare("SELECT max(seq) AS n FROM records").get() as { n: number }).n;
  const note = await signLedgerCheckpoint({ origin: ORIGIN, size, root, key });
  db.exec("DELETE FROM checkpoints; DELETE FROM witnessed;");
  db.prepare("INSERT INTO checkpoints(tree_size, note) VALUES (?, ?)").run(size, note);
  return note;
}

/** Removes the database and its WAL and shared-memory files. */
export async function removeDatabase(d: LedgerDir): Promise<void> {
  for (const suffix of ["", "-wal", "-shm"]) {
    await Deno.remove(`${d.path}${suffix}`).catch((err: unknown) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}
