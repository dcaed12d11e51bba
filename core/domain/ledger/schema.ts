/**
 * The ledger's SQLite schema and connection settings.
 *
 * Durability: WAL with `synchronous=FULL`. In WAL mode a transaction is committed
 * when its commit frame is in the WAL, so a killed process (even SIGKILL mid-batch)
 * leaves either the whole batch or none of it with any setting. `FULL` adds an fsync
 * of the WAL at every commit, so a committed batch also survives power loss:
 * `NORMAL` could roll the last batches back after the anchor file (fsynced) already
 * names them, which would read as truncation, and `append()` returning must mean the
 * events are on disk. Batching makes the one fsync per commit cheap.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { SaoeError } from "../../primitives/errors.ts";

/** Current schema version, stored in `meta.format`. */
export const LEDGER_FORMAT = "2";

/**
 * Tables of a ledger database (STRICT: a value of the wrong type is refused):
 * the records with their chain hashes; every complete node of the RFC 6962
 * Merkle tree over the records' bytes; the log-signed checkpoint notes; and the
 * checkpoints witnesses cosigned, as returned to the supervisor.
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS records(
  seq INTEGER PRIMARY KEY,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  bytes BLOB NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS merkle(
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY(level, idx)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints(
  tree_size INTEGER PRIMARY KEY,
  note TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS witnessed(
  tree_size INTEGER PRIMARY KEY,
  note TEXT NOT NULL
) STRICT;
`;

/**
 * What turns a format-1 ledger (chain only, DSSE checkpoints) into format 2: its
 * DSSE checkpoints are kept aside, unused (they vouched for chain heads, which
 * the Merkle checkpoints replace); the tree is built from the records by the
 * writer when it opens the ledger.
 */
export const MIGRATE_FROM_1_SQL = `
ALTER TABLE checkpoints RENAME TO legacy_checkpoints;
`;

/** Applies the writer's connection settings: WAL, fsync per commit, a busy timeout. */
export function configureWriter(db: DatabaseSync): void {
  const mode = db.prepare("PRAGMA journal_mode=WAL").get() as { journal_mode?: unknown };
  if (mode.journal_mode !== "wal") {
    throw new SaoeError(
      "io_error",
      `Cannot open the ledger for writing: journal_mode is ${
        String(mode.journal_mode)
      }, expected wal`,
    );
  }
  db.exec("PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;");
}

/** Applies a reader's settings: never writes, waits briefly on a busy database. */
export function configureReader(db: DatabaseSync): void {
  db.exec("PRAGMA query_only=1; PRAGMA busy_timeout=5000;");
}
