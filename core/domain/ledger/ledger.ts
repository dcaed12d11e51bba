/**
 * The audit ledger (docs/design.md section 7): an append-only, hash-chained log of exact
 * event bytes in SQLite, with signed checkpoints.
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
import { DatabaseSync } from "node:sqlite";
import { basename, dirname, join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { toHex } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { type Clock, systemClock } from "../../primitives/time/clock.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { chainHash, GENESIS_HASH } from "./chain_hash.ts";
import { signCheckpoint } from "./checkpoint.ts";
import { MAX_EVENT_BYTES } from "./events.ts";
import { configureReader, configureWriter, LEDGER_FORMAT, SCHEMA_SQL } from "./schema.ts";
import { WriterLock } from "./writer_lock.ts";

/** Most events one {@linkcode Ledger.append} call may carry. */
export const MAX_BATCH = 10_000;
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
  /**
   * Where {@linkcode Ledger.checkpoint} also writes the latest checkpoint:
   * `<home>/audit/anchor.json` (`anchorPath` of the home layout).
   */
  anchorPath?: string;
  /** Clock for checkpoint timestamps; the system clock by default. */
  clock?: Clock;
}

/** The head of the chain. */
export interface LedgerHead {
  /** Number of records (the last seq). */
  size: number;
  /** Lowercase hex hash of the last record; 64 zeros for an empty ledger. */
  hash: string;
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
  /** Lowercase hex head hash at `treeSize`. */
  headHash: string;
  /** The exact DSSE statement stored in the ledger and in the anchor file. */
  statement: Uint8Array;
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
  /** Signs the current head, stores the checkpoint and rewrites the anchor file. */
  checkpoint(): Promise<CheckpointWritten>;
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
  #anchorPath: string | undefined;
  #clock: Clock;
  #checkpointing: Promise<unknown> = Promise.resolve();

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
    this.#anchorPath = options.anchorPath;
    this.#clock = options.clock ?? systemClock;
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
    const insert = db.prepare(
      "INSERT INTO records(seq, prev_hash, hash, bytes) VALUES (?, ?, ?, ?)",
    );
    db.exec("BEGIN IMMEDIATE");
    try {
      const head = this.#headRow(db);
      let seq = head?.seq ?? 0;
      let prev: Uint8Array = head?.hash ?? GENESIS_HASH;
      const seqs: number[] = [];
      for (const bytes of events) {
        const hash = chainHash(prev, bytes);
        seq++;
        insert.run(seq, prev, hash, bytes);
        seqs.push(seq);
        prev = hash;
      }
      db.exec("COMMIT");
      return seqs;
    } catch (err: unknown) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw asSaoeError(err, `Cannot append to ledger ${this.path}`);
    }
  }

  head(): LedgerHead {
    const row = this.#headRow(this.#open());
    return { size: row?.seq ?? 0, hash: toHex(row?.hash ?? GENESIS_HASH) };
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
    const anchorPath = this.#anchorPath;
    if (key === undefined || anchorPath === undefined) {
      throw new SaoeError(
        "bad_config",
        `Cannot checkpoint ledger ${this.path}: it was opened without ${
          key === undefined ? "a checkpoint key" : "an anchor path"
        }`,
      );
    }
    // the head read here is committed (and fsynced): the anchor never names records
    // the database could lose
    const head = this.#headRow(db);
    if (head === undefined) {
      throw new SaoeError("bad_config", `Cannot checkpoint ledger ${this.path}: it is empty`);
    }
    const existing = db.prepare("SELECT statement FROM checkpoints WHERE tree_size = ?").get(
      head.seq,
    ) as { statement: Uint8Array } | undefined;
    let statement = existing?.statement;
    if (statement === undefined) {
      statement = await signCheckpoint({
        treeSize: head.seq,
        headHash: head.hash,
        ledgerId: this.ledgerId,
        key,
        clock: this.#clock,
      });
      this.#open().prepare("INSERT INTO checkpoints(tree_size, statement) VALUES (?, ?)").run(
        head.seq,
        statement,
      );
    }
    // the ledger first, then the anchor: a crash in between leaves an older anchor,
    // which still verifies
    await Deno.mkdir(dirname(anchorPath), { recursive: true, mode: 0o700 });
    await writeFileAtomic(anchorPath, statement);
    return { treeSize: head.seq, headHash: toHex(head.hash), statement };
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

function openWriterDb(path: string): { db: DatabaseSync; ledgerId: string } {
  const db = new DatabaseSync(path);
  try {
    configureWriter(db);
    db.exec("BEGIN IMMEDIATE");
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
