/**
 * The audit ledger (docs/design.md section 7): an append-only log of exact event
 * bytes in SQLite, each record chained to the one before and a leaf of an RFC 6962
 * Merkle tree, with checkpoints as C2SP signed notes that witnesses cosign.
 *
 * One writer (the supervisor) opens it with {@linkcode openLedger}; it holds the
 * writer lock (see `writer_lock.ts`) and, alone, the checkpoint key. Viewers and
 * `saoe audit verify` open it with `readOnly: true`, which never writes and works
 * while the writer runs (WAL readers see committed batches only).
 *
 * Each batch is one `BEGIN IMMEDIATE` transaction that reads the head inside the
 * transaction, so the chain stays consistent even if the lock were bypassed, and a
 * crash leaves whole batches only.
 *
 * @module
 */
import { SHARED_FILE_MODE } from "../home/layout.ts";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { basename, dirname, join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { toHex } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { leafHash } from "../../primitives/merkle/hash.ts";
import { MerkleFrontier, type MerkleNode } from "../../primitives/merkle/tree.ts";
import { chainHash, GENESIS_HASH } from "./chain_hash.ts";
import { signLedgerCheckpoint } from "./checkpoint.ts";
import { MAX_EVENT_BYTES } from "./events.ts";
import { MerkleStore, MIN_STORED_LEVEL } from "./merkle_store.ts";
import {
  configureReader,
  configureWriter,
  LEDGER_FORMAT,
  MIGRATE_FROM_1_SQL,
  SCHEMA_SQL,
} from "./schema.ts";
import { WriterLock } from "./writer_lock.ts";

/** Most events one {@linkcode Ledger.append} call may carry. */
export const MAX_BATCH = 10_000;

// records per INSERT statement on the append path
const ROWS_PER_INSERT = 50;
/** Most records one {@linkcode Ledger.read} call returns. */
export const MAX_READ = 10_000;

/** Options for {@linkcode openLedger}. */
export interface OpenLedgerOptions {
  /** The database file, e.g. `<home>/audit/ledger.db`. */
  path: string;
  /** Open for reading only: never writes, no lock, no key. */
  readOnly?: boolean;
  /** The checkpoint signing key; only the writer has it. */
  checkpointKey?: SigningKey;
  /** The log's origin line (`logOrigin` of the home), which every checkpoint names. */
  origin?: string;
  /**
   * Where {@linkcode Ledger.recordWitnessed} also writes the latest witnessed
   * checkpoint note (`<home>/audit/checkpoint`), a copy for operators: nothing
   * trusts it without checking its cosignatures.
   */
  witnessedPath?: string;
}

/** The head of the ledger. */
export interface LedgerHead {
  /** Number of records (the last seq). */
  size: number;
  /** Lowercase hex chain hash of the last record; 64 zeros for an empty ledger. */
  hash: string;
  /** Lowercase hex RFC 6962 Merkle root of all records. */
  root: string;
}

/** One stored record. */
export interface LedgerRecord {
  seq: number;
  prevHash: Uint8Array;
  hash: Uint8Array;
  /** The exact event bytes appended. */
  bytes: Uint8Array;
}

/** Options for {@linkcode Ledger.read}. */
export interface ReadOptions {
  /** Return records with a seq above this; 0 (from the start) by default. */
  afterSeq?: number;
  /** At most this many records; 1000 by default, {@linkcode MAX_READ} at most. */
  limit?: number;
}

/** A checkpoint just written. */
export interface CheckpointWritten {
  treeSize: number;
  /** Lowercase hex chain hash of record `treeSize`. */
  headHash: string;
  /** Lowercase hex Merkle root at `treeSize`. */
  root: string;
  /** The log-signed checkpoint note stored in the ledger. */
  note: string;
}

/** A checkpoint the witnesses cosigned, as stored. */
export interface WitnessedCheckpoint {
  treeSize: number;
  /** The note with the log's signature and the witnesses' cosignatures. */
  note: string;
}

/** An open ledger. */
export interface Ledger {
  /** The database path. */
  readonly path: string;
  /** The ledger's id (random UUID fixed at creation), bound into every checkpoint. */
  readonly ledgerId: string;
  /** True when opened with `readOnly`. */
  readonly readOnly: boolean;
  /**
   * Appends a batch atomically and returns the seqs assigned. Each event must be a
   * strict JSON object of at most 64 KiB; one bad event refuses the whole batch.
   */
  append(events: readonly Uint8Array[]): number[];
  /** The current head. */
  head(): LedgerHead;
  /** Records after `afterSeq`, in seq order. */
  read(options?: ReadOptions): LedgerRecord[];
  /** The Merkle root of the first `size` records (from the stored tree). */
  root(size: number): Uint8Array;
  /** The RFC 6962 inclusion proof of record `seq` (1-based) in the tree of `size` records. */
  inclusionProof(seq: number, size: number): Uint8Array[];
  /** The RFC 6962 consistency proof from `oldSize` to `newSize` records. */
  consistencyProof(oldSize: number, newSize: number): Uint8Array[];
  /** Signs the current head as a checkpoint note and stores it (writer only). */
  checkpoint(): Promise<CheckpointWritten>;
  /** The log-signed checkpoint note stored for `treeSize`, if any. */
  checkpointAt(treeSize: number): string | undefined;
  /**
   * Stores a checkpoint the witness policy accepted and rewrites the operators'
   * copy of the latest one (writer only; the caller verified the cosignatures).
   */
  recordWitnessed(checkpoint: WitnessedCheckpoint): Promise<void>;
  /** The largest witnessed checkpoint stored, if any. */
  latestWitnessed(): WitnessedCheckpoint | undefined;
  /** Closes the database and releases the writer lock. */
  close(): void;
}

/** The lock file for a database path: `audit/ledger.db` → `audit/ledger.lock`. */
export function lockPathFor(path: string): string {
  const name = basename(path);
  return join(dirname(path), `${name.endsWith(".db") ? name.slice(0, -3) : name}.lock`);
}

/**
 * True when a process holds the writer lock of the ledger at `path` (a running
 * supervisor). Opens the lock file read-only and never writes it.
 *
 * @example
 * ```ts
 * import { ledgerWriterRunning } from "./ledger.ts";
 * const dir = await Deno.makeTempDir();
 * if (await ledgerWriterRunning(`${dir}/ledger.db`)) throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export async function ledgerWriterRunning(path: string): Promise<boolean> {
  const lock = lockPathFor(path);
  const info = await Deno.lstat(lock).catch(() => undefined);
  if (info === undefined || !info.isFile) return false;
  const file = await Deno.open(lock, { read: true });
  try {
    const locked = await file.tryLock(true);
    if (locked) await file.unlock();
    return !locked;
  } finally {
    file.close();
  }
}

interface HeadRow {
  seq: number;
  hash: Uint8Array;
}

class SqliteLedger implements Ledger {
  readonly path: string;
  readonly ledgerId: string;
  readonly readOnly: boolean;
  #db: DatabaseSync | undefined;
  #lock: WriterLock | undefined;
  #key: SigningKey | undefined;
  #origin: string | undefined;
  #witnessedPath: string | undefined;
  #checkpointing: Promise<unknown> = Promise.resolve();
  readonly #store: MerkleStore;
  #insertOne: StatementSync | undefined;
  #insertMany: StatementSync | undefined;
  /** The writer's frontier, always that of the committed records. */
  #frontier: MerkleFrontier | undefined;

  constructor(
    db: DatabaseSync,
    options: OpenLedgerOptions,
    ledgerId: string,
    lock: WriterLock | undefined,
  ) {
    this.path = options.path;
    this.readOnly = options.readOnly === true;
    this.ledgerId = ledgerId;
    this.#db = db;
    this.#lock = lock;
    this.#key = options.checkpointKey;
    this.#origin = options.origin;
    this.#witnessedPath = options.witnessedPath;
    this.#store = new MerkleStore(db, options.path, !this.readOnly);
    if (!this.readOnly) this.#frontier = this.#store.frontier(this.#size(db));
  }

  #size(db: DatabaseSync): number {
    return this.#headRow(db)?.seq ?? 0;
  }

  #open(): DatabaseSync {
    if (this.#db === undefined) throw new TypeError(`Ledger ${this.path} is closed`);
    return this.#db;
  }

  #writer(what: string): DatabaseSync {
    const db = this.#open();
    if (this.readOnly) {
      throw new TypeError(`Cannot ${what} ledger ${this.path}: it is open read-only`);
    }
    return db;
  }

  #headRow(db: DatabaseSync): HeadRow | undefined {
    return db.prepare("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").get() as
      | HeadRow
      | undefined;
  }

  /** Inserts records, {@linkcode ROWS_PER_INSERT} per statement (one statement per row cost a third of the append). */
  #insertRows(db: DatabaseSync, rows: readonly (number | Uint8Array)[]): void {
    const width = 4 * ROWS_PER_INSERT;
    let at = 0;
    if (rows.length >= width) {
      this.#insertMany ??= db.prepare(
        `INSERT INTO records(seq, prev_hash, hash, bytes) VALUES ${
          Array(ROWS_PER_INSERT).fill("(?, ?, ?, ?)").join(", ")
        }`,
      );
      for (; at + width <= rows.length; at += width) {
        this.#insertMany.run(...rows.slice(at, at + width));
      }
    }
    if (at === rows.length) return;
    this.#insertOne ??= db.prepare(
      "INSERT INTO records(seq, prev_hash, hash, bytes) VALUES (?, ?, ?, ?)",
    );
    for (; at < rows.length; at += 4) this.#insertOne.run(...rows.slice(at, at + 4));
  }

  append(events: readonly Uint8Array[]): number[] {
    const db = this.#writer("append to");
    if (events.length > MAX_BATCH) {
      throw new SaoeError(
        "size_exceeded",
        `Cannot append to ledger ${this.path}: a batch of ${events.length} events exceeds ${MAX_BATCH}`,
      );
    }
    // validate the whole batch first: one bad event refuses the batch, nothing is written
    events.forEach((bytes, i) => {
      try {
        parseStrictJson(bytes, { maxBytes: MAX_EVENT_BYTES });
      } catch (err: unknown) {
        if (!(err instanceof SaoeError)) throw err;
        throw new SaoeError(
          err.code,
          `Cannot append event ${i} of the batch to ledger ${this.path}: ${err.message}`,
          {},
          { cause: err },
        );
      }
    });
    if (events.length === 0) return [];
    db.exec("BEGIN IMMEDIATE");
    try {
      const head = this.#headRow(db);
      let seq = head?.seq ?? 0;
      if (seq !== this.#frontier!.size) {
        throw new SaoeError(
          "ledger_broken",
          `Cannot append to ledger ${this.path}: it holds ${seq} records but its writer's tree covers ${
            this.#frontier!.size
          } (another writer?)`,
        );
      }
      // pushed on a copy: a failed transaction leaves the writer's frontier as committed
      const frontier = new MerkleFrontier(this.#frontier!.size, this.#frontier!.frontier());
      let prev: Uint8Array = head?.hash ?? GENESIS_HASH;
      const seqs: number[] = [];
      const nodes: MerkleNode[] = [];
      const rows: (number | Uint8Array)[] = [];
      for (const bytes of events) {
        const hash = chainHash(prev, bytes);
        seq++;
        rows.push(seq, prev, hash, bytes);
        for (const node of frontier.push(leafHash(bytes))) {
          if (node.level >= MIN_STORED_LEVEL) nodes.push(node); // the only ones stored
        }
        seqs.push(seq);
        prev = hash;
      }
      this.#insertRows(db, rows);
      this.#store.put(nodes);
      db.exec("COMMIT");
      this.#frontier = frontier;
      return seqs;
    } catch (err: unknown) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw asSaoeError(err, `Cannot append to ledger ${this.path}`);
    }
  }

  head(): LedgerHead {
    const db = this.#open();
    const row = this.#headRow(db);
    const size = row?.seq ?? 0;
    const root = this.#frontier?.root() ?? this.#store.root(size);
    return { size, hash: toHex(row?.hash ?? GENESIS_HASH), root: toHex(root) };
  }

  root(size: number): Uint8Array {
    this.#checkSize(size, "root of");
    return this.#store.root(size);
  }

  inclusionProof(seq: number, size: number): Uint8Array[] {
    this.#checkSize(size, "prove inclusion in");
    if (!Number.isSafeInteger(seq) || seq < 1 || seq > size) {
      throw new RangeError(`Record ${seq} is not in a tree of ${size} records`);
    }
    return this.#store.inclusionProof(seq - 1, size);
  }

  consistencyProof(oldSize: number, newSize: number): Uint8Array[] {
    this.#checkSize(newSize, "prove consistency of");
    if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize) {
      throw new RangeError(`No consistency proof from ${oldSize} to ${newSize} records`);
    }
    return this.#store.consistencyProof(oldSize, newSize);
  }

  #checkSize(size: number, what: string): void {
    const have = this.#size(this.#open());
    if (!Number.isSafeInteger(size) || size < 0 || size > have) {
      throw new RangeError(`Cannot ${what} a tree of ${size} records: ledger holds ${have}`);
    }
  }

  checkpointAt(treeSize: number): string | undefined {
    const row = this.#open().prepare("SELECT note FROM checkpoints WHERE tree_size = ?").get(
      treeSize,
    ) as { note: string } | undefined;
    return row?.note;
  }

  async recordWitnessed(checkpoint: WitnessedCheckpoint): Promise<void> {
    const db = this.#writer("record a witnessed checkpoint in");
    db.prepare("INSERT OR REPLACE INTO witnessed(tree_size, note) VALUES (?, ?)").run(
      checkpoint.treeSize,
      checkpoint.note,
    );
    const path = this.#witnessedPath;
    const latest = this.latestWitnessed();
    // the operators' copy names the largest one: a late answer for an older size never replaces it
    if (path !== undefined && latest?.treeSize === checkpoint.treeSize) {
      await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFileAtomic(path, new TextEncoder().encode(checkpoint.note), {
        mode: SHARED_FILE_MODE,
      });
    }
  }

  latestWitnessed(): WitnessedCheckpoint | undefined {
    const row = this.#open().prepare(
      "SELECT tree_size, note FROM witnessed ORDER BY tree_size DESC LIMIT 1",
    ).get() as { tree_size: number; note: string } | undefined;
    return row === undefined ? undefined : { treeSize: row.tree_size, note: row.note };
  }

  read(options: ReadOptions = {}): LedgerRecord[] {
    const afterSeq = options.afterSeq ?? 0;
    const limit = options.limit ?? 1000;
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
      throw new RangeError(`afterSeq must be a non-negative integer, got ${afterSeq}`);
    }
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_READ) {
      throw new RangeError(`limit must be an integer from 1 to ${MAX_READ}, got ${limit}`);
    }
    const rows = this.#open()
      .prepare(
        "SELECT seq, prev_hash, hash, bytes FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
      )
      .all(afterSeq, limit) as {
        seq: number;
        prev_hash: Uint8Array;
        hash: Uint8Array;
        bytes: Uint8Array;
      }[];
    return rows.map((r) => ({ seq: r.seq, prevHash: r.prev_hash, hash: r.hash, bytes: r.bytes }));
  }

  checkpoint(): Promise<CheckpointWritten> {
    // one at a time: a slower earlier call must never overwrite a newer anchor
    const next = this.#checkpointing.then(() => this.#checkpoint(), () => this.#checkpoint());
    this.#checkpointing = next.catch(() => {});
    return next;
  }

  async #checkpoint(): Promise<CheckpointWritten> {
    const db = this.#writer("checkpoint");
    const key = this.#key;
    const origin = this.#origin;
    if (key === undefined || origin === undefined) {
      throw new SaoeError(
        "bad_config",
        `Cannot checkpoint ledger ${this.path}: it was opened without ${
          key === undefined ? "a checkpoint key" : "an origin"
        }`,
      );
    }
    // the head read here is committed (and fsynced): a checkpoint never names records
    // the database could lose
    const head = this.#headRow(db);
    if (head === undefined) {
      throw new SaoeError("bad_config", `Cannot checkpoint ledger ${this.path}: it is empty`);
    }
    const root = this.#frontier!.root();
    const stored = this.checkpointAt(head.seq);
    const note = stored ?? await signLedgerCheckpoint({ origin, size: head.seq, root, key });
    if (stored === undefined) {
      this.#open().prepare("INSERT INTO checkpoints(tree_size, note) VALUES (?, ?)").run(
        head.seq,
        note,
      );
    }
    return { treeSize: head.seq, headHash: toHex(head.hash), root: toHex(root), note };
  }

  close(): void {
    const db = this.#db;
    this.#db = undefined;
    try {
      db?.close();
    } finally {
      this.#lock?.release();
      this.#lock = undefined;
    }
  }
}

async function refuseNonRegular(path: string): Promise<boolean> {
  const info = await Deno.lstat(path).catch(() => undefined);
  if (info !== undefined && !info.isFile) {
    // a planted symlink would point the ledger at a file elsewhere
    throw new SaoeError("unsafe_path", `Cannot open ledger ${path}: it is not a regular file`);
  }
  return info !== undefined;
}

function readLedgerId(db: DatabaseSync, path: string): string {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'ledger_id'").get() as
    | { value: string }
    | undefined;
  if (row === undefined) {
    throw new SaoeError("ledger_broken", `Cannot open ledger ${path}: it has no ledger_id`);
  }
  return row.value;
}

/**
 * A format-1 ledger (written by an earlier version: chain only) becomes format 2:
 * its DSSE checkpoints are set aside and the Merkle tree is built from its records,
 * inside the writer's opening transaction.
 */
function migrateFrom1(db: DatabaseSync, path: string): void {
  const hasMeta = db.prepare(
    "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
  ).get();
  if (hasMeta === undefined) return;
  const format = db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as
    | { value: string }
    | undefined;
  if (format?.value !== "1") return;
  db.exec(MIGRATE_FROM_1_SQL);
  db.exec(SCHEMA_SQL);
  const store = new MerkleStore(db, path, true);
  const frontier = new MerkleFrontier();
  const rows = db.prepare("SELECT bytes FROM records ORDER BY seq").iterate() as Iterable<
    { bytes: Uint8Array }
  >;
  for (const row of rows) store.put(frontier.push(leafHash(row.bytes)));
  db.prepare("UPDATE meta SET value = ? WHERE key = 'format'").run(LEDGER_FORMAT);
}

function openWriterDb(path: string): { db: DatabaseSync; ledgerId: string } {
  const db = new DatabaseSync(path);
  try {
    configureWriter(db);
    db.exec("BEGIN IMMEDIATE");
    migrateFrom1(db, path);
    db.exec(SCHEMA_SQL);
    db.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('ledger_id', ?)").run(
      crypto.randomUUID(),
    );
    db.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('format', ?)").run(LEDGER_FORMAT);
    db.exec("COMMIT");
    const format = db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as {
      value: string;
    };
    if (format.value !== LEDGER_FORMAT) {
      throw new SaoeError(
        "bad_config",
        `Cannot open ledger ${path}: format ${format.value} is not the supported ${LEDGER_FORMAT}`,
      );
    }
    return { db, ledgerId: readLedgerId(db, path) };
  } catch (err: unknown) {
    db.close();
    throw err;
  }
}

/**
 * Opens the ledger at `options.path`: as the single writer (creating it if absent,
 * taking the writer lock) or, with `readOnly`, as a reader of an existing ledger.
 *
 * @example
 * ```ts
 * import { openLedger } from "./ledger.ts";
 * const dir = await Deno.makeTempDir();
 * const ledger = await openLedger({ path: `${dir}/ledger.db` });
 * const seqs = ledger.append([new TextEncoder().encode('{"type":"validated"}')]);
 * if (seqs[0] !== 1 || ledger.head().size !== 1) throw new Error();
 * ledger.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openLedger(options: OpenLedgerOptions): Promise<Ledger> {
  const exists = await refuseNonRegular(options.path);
  if (options.readOnly === true) {
    if (options.checkpointKey !== undefined) {
      throw new TypeError("A read-only ledger takes no checkpoint key");
    }
    if (!exists) {
      throw new SaoeError("io_error", `Cannot open ledger ${options.path}: no such file`);
    }
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(options.path, { readOnly: true });
      configureReader(db);
      return new SqliteLedger(db, options, readLedgerId(db, options.path), undefined);
    } catch (err: unknown) {
      db?.close();
      throw asSaoeError(err, `Cannot open ledger ${options.path} for reading`);
    }
  }
  await Deno.mkdir(dirname(options.path), { recursive: true, mode: 0o700 });
  const lock = await WriterLock.acquire(lockPathFor(options.path));
  try {
    const { db, ledgerId } = openWriterDb(options.path);
    return new SqliteLedger(db, options, ledgerId, lock);
  } catch (err: unknown) {
    lock.release();
    throw asSaoeError(err, `Cannot open ledger ${options.path}`);
  }
}

function asSaoeError(err: unknown, what: string): SaoeError {
  if (err instanceof SaoeError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new SaoeError("io_error", `${what}: ${why}`, {}, { cause: err });
}
