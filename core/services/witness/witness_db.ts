/**
 * The witness database (`witness.db` in the state directory): who the witness
 * is (`meta`: format, name, public key), the logs it knows (`logs`: origin,
 * verifier key, and the latest checkpoint it cosigned: size, root, the signed
 * note, the time) and forks it saw (`forks`: a second root signed by a log at a
 * size it had already cosigned, kept as evidence).
 *
 * Durability as the ledger's (core/domain/ledger/schema.ts): WAL with
 * `synchronous=FULL`, so a cosignature is answered only after its new state is
 * fsynced. Every cosign is one `BEGIN IMMEDIATE` transaction that reads the
 * stored state, decides, and writes: two requests (or two witness processes on
 * one state directory) can never both advance from the same old size. Triggers
 * refuse, whatever the code above them does, a size that goes down and a second
 * root at the same size.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { SaoeError } from "../../primitives/errors.ts";

/** Current schema version, stored in `meta.format`. */
export const WITNESS_DB_FORMAT = "1";

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS logs(
  origin TEXT PRIMARY KEY,
  vkey TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
  root BLOB,
  note TEXT,
  cosigned_at INTEGER
) STRICT;
CREATE TRIGGER IF NOT EXISTS logs_size_never_shrinks BEFORE UPDATE ON logs
  WHEN NEW.size < OLD.size
  BEGIN SELECT RAISE(ABORT, 'a cosigned size never goes down'); END;
CREATE TRIGGER IF NOT EXISTS logs_one_root_per_size BEFORE UPDATE ON logs
  WHEN NEW.size = OLD.size AND OLD.root IS NOT NULL AND NEW.root IS NOT OLD.root
  BEGIN SELECT RAISE(ABORT, 'a cosigned size never gets another root'); END;
CREATE TABLE IF NOT EXISTS forks(
  origin TEXT NOT NULL,
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (origin, size, root)
) STRICT;
`;

/** Who the witness is, as `witness init` recorded it. */
export interface WitnessMeta {
  format: string;
  /** The witness's key name. */
  name: string;
  /** Its raw Ed25519 public key. */
  publicKey: Uint8Array<ArrayBuffer>;
  /** When the state was created (epoch ms). */
  createdAt: number;
}

/** One known log and what the witness last cosigned for it. */
export interface LogRecord {
  origin: string;
  /** The log's verifier key (a vkey of type 0x01 named by the origin). */
  vkey: string;
  /** When it was added (epoch ms). */
  addedAt: number;
  /** Size of the latest cosigned checkpoint; 0 before the first. */
  size: number;
  /** Its root hash; absent before the first cosignature. */
  root?: Uint8Array<ArrayBuffer>;
  /** The signed note: the log's verified signature lines and the witness's cosignature. */
  note?: string;
  /** The cosignature's timestamp (POSIX seconds). */
  cosignedAt?: number;
}

/** A checkpoint to store as the latest cosigned one. */
export interface CosignedUpdate {
  size: number;
  root: Uint8Array;
  note: string;
  cosignedAt: number;
}

/** What a commit decided: `accept` writes the update, anything else writes nothing. */
export interface CommitDecision {
  kind: string;
}

interface LogRow {
  origin: string;
  vkey: string;
  added_at: number;
  size: number;
  root: Uint8Array | null;
  note: string | null;
  cosigned_at: number | null;
}

function toRecord(row: LogRow): LogRecord {
  return {
    origin: row.origin,
    vkey: row.vkey,
    addedAt: row.added_at,
    size: row.size,
    ...(row.root !== null ? { root: new Uint8Array(row.root) } : {}),
    ...(row.note !== null ? { note: row.note } : {}),
    ...(row.cosigned_at !== null ? { cosignedAt: row.cosigned_at } : {}),
  };
}

/** An open witness database. */
export class WitnessDb {
  readonly path: string;
  #db: DatabaseSync | undefined;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /**
   * Creates a new database at `path` (which must not exist) holding `meta`.
   *
   * @example
   * ```ts
   * import { WitnessDb } from "./witness_db.ts";
   * const dir = await Deno.makeTempDir();
   * const db = WitnessDb.create(`${dir}/witness.db`, {
   *   name: "witness.local/alice", publicKey: new Uint8Array(32), createdAt: 0,
   * });
   * db.addLog("example.com/log", "example.com/log+01234567+AQ==", 0);
   * if (db.log("example.com/log")?.size !== 0) throw new Error();
   * db.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static create(path: string, meta: Omit<WitnessMeta, "format">): WitnessDb {
    const db = new DatabaseSync(path);
    try {
      configure(db);
      db.exec("BEGIN IMMEDIATE");
      db.exec(SCHEMA_SQL);
      const insert = db.prepare("INSERT INTO meta(key, value) VALUES (?, ?)");
      insert.run("format", WITNESS_DB_FORMAT);
      insert.run("name", meta.name);
      insert.run("public_key", meta.publicKey.toHex());
      insert.run("created_at", String(meta.createdAt));
      db.exec("COMMIT");
      return new WitnessDb(path, db);
    } catch (err: unknown) {
      if (db.isOpen && db.isTransaction) db.exec("ROLLBACK");
      db.close();
      throw asSaoeError(err, `Cannot create the witness database ${path}`);
    }
  }

  /**
   * Opens an existing database (the caller checked the file exists: opening
   * never creates one). `readOnly` never writes and works while `serve` runs.
   */
  static open(path: string, options: { readOnly?: boolean } = {}): WitnessDb {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { readOnly: options.readOnly === true });
      if (options.readOnly === true) db.exec("PRAGMA query_only=1; PRAGMA busy_timeout=5000;");
      else configure(db);
      const opened = new WitnessDb(path, db);
      opened.meta();
      return opened;
    } catch (err: unknown) {
      db?.close();
      throw asSaoeError(err, `Cannot open the witness database ${path}`);
    }
  }

  #open(): DatabaseSync {
    if (this.#db === undefined) throw new TypeError(`The witness database ${this.path} is closed`);
    return this.#db;
  }

  /** The identity `witness init` recorded; `bad_config` when the database is not a witness's. */
  meta(): WitnessMeta {
    let rows: { key: string; value: string }[];
    try {
      rows = this.#open().prepare("SELECT key, value FROM meta").all() as typeof rows;
    } catch (err: unknown) {
      throw asSaoeError(err, `Cannot read the witness database ${this.path}`);
    }
    const values = new Map(rows.map((r) => [r.key, r.value]));
    const format = values.get("format");
    const name = values.get("name");
    const publicKey = values.get("public_key");
    const createdAt = Number(values.get("created_at"));
    if (
      format === undefined || name === undefined || publicKey === undefined ||
      !/^[0-9a-f]{64}$/.test(publicKey) || !Number.isSafeInteger(createdAt)
    ) {
      throw new SaoeError(
        "bad_config",
        `${this.path} is not a complete witness database (its meta table lacks the format, name, public key or creation time): initialise a new state directory with \`saoe witness init\``,
      );
    }
    if (format !== WITNESS_DB_FORMAT) {
      throw new SaoeError(
        "bad_config",
        `Cannot use ${this.path}: format ${format} is not the supported ${WITNESS_DB_FORMAT}`,
      );
    }
    return { format, name, publicKey: Uint8Array.fromHex(publicKey), createdAt };
  }

  /** Every known log, by origin. */
  logs(): LogRecord[] {
    const rows = this.#open().prepare("SELECT * FROM logs ORDER BY origin").all() as unknown[];
    return (rows as LogRow[]).map(toRecord);
  }

  /** The log with `origin`, if known. */
  log(origin: string): LogRecord | undefined {
    const row = this.#open().prepare("SELECT * FROM logs WHERE origin = ?").get(origin) as
      | LogRow
      | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  /** How many forks were recorded for `origin`. */
  forkCount(origin: string): number {
    const row = this.#open().prepare("SELECT count(*) AS n FROM forks WHERE origin = ?").get(
      origin,
    ) as { n: number };
    return row.n;
  }

  /** Registers a log; `rollback` when the origin is known already. */
  addLog(origin: string, vkey: string, addedAt: number): void {
    const db = this.#open();
    db.exec("BEGIN IMMEDIATE");
    try {
      const existing = db.prepare("SELECT vkey FROM logs WHERE origin = ?").get(origin) as
        | { vkey: string }
        | undefined;
      if (existing !== undefined) {
        throw new SaoeError(
          "rollback",
          `The log ${origin} is already registered${
            existing.vkey === vkey ? " with this key" : ` with another key (${existing.vkey})`
          }: a witness keeps one key per origin; a log with a new key is a new log with a new origin`,
        );
      }
      db.prepare("INSERT INTO logs(origin, vkey, added_at) VALUES (?, ?, ?)").run(
        origin,
        vkey,
        addedAt,
      );
      db.exec("COMMIT");
    } catch (err: unknown) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw asSaoeError(err, `Cannot register the log ${origin} in ${this.path}`);
    }
  }

  /**
   * In one `BEGIN IMMEDIATE` transaction: reads the log's stored state, asks
   * `decide`, and when it answers `accept` stores `update`; commits before it
   * returns. `decide` must be synchronous and pure: nothing else can run on
   * this state in between, in this process or another.
   */
  commit<D extends CommitDecision>(
    origin: string,
    decide: (stored: LogRecord | undefined) => D,
    update: CosignedUpdate,
  ): D {
    const db = this.#open();
    db.exec("BEGIN IMMEDIATE");
    try {
      const row = db.prepare("SELECT * FROM logs WHERE origin = ?").get(origin) as
        | LogRow
        | undefined;
      const decision = decide(row === undefined ? undefined : toRecord(row));
      if (decision.kind === "accept") {
        const changed = db.prepare(
          "UPDATE logs SET size = ?, root = ?, note = ?, cosigned_at = ? WHERE origin = ?",
        ).run(update.size, update.root, update.note, update.cosignedAt, origin);
        if (changed.changes !== 1) throw new Error(`no row for ${origin}`);
      }
      db.exec("COMMIT");
      return decision;
    } catch (err: unknown) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw asSaoeError(err, `Cannot store the cosigned checkpoint of ${origin} in ${this.path}`);
    }
  }

  /** Keeps a log-signed second root at a cosigned size (once per root). */
  recordFork(origin: string, size: number, root: Uint8Array, note: string, seenAt: number): void {
    this.#open().prepare(
      "INSERT OR IGNORE INTO forks(origin, size, root, note, seen_at) VALUES (?, ?, ?, ?, ?)",
    ).run(origin, size, root, note, seenAt);
  }

  /** Closes the database. */
  close(): void {
    const db = this.#db;
    this.#db = undefined;
    db?.close();
  }
}

/**
 * True when `err` (or its cause) is SQLite's "database is locked": another
 * process held the write lock longer than the busy timeout; retrying is safe.
 *
 * @example
 * ```ts
 * import { isBusy } from "./witness_db.ts";
 * if (!isBusy(new Error("x", { cause: new Error("database is locked") }))) throw new Error();
 * ```
 */
export function isBusy(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (/database is locked|SQLITE_BUSY/.test(e.message)) return true;
  }
  return false;
}

function configure(db: DatabaseSync): void {
  const mode = db.prepare("PRAGMA journal_mode=WAL").get() as { journal_mode?: unknown };
  if (mode.journal_mode !== "wal") {
    throw new SaoeError(
      "io_error",
      `Cannot open the witness database: journal_mode is ${
        String(mode.journal_mode)
      }, expected wal`,
    );
  }
  db.exec("PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;");
}

function asSaoeError(err: unknown, what: string): SaoeError {
  if (err instanceof SaoeError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new SaoeError("io_error", `${what}: ${why}`, {}, { cause: err });
}
