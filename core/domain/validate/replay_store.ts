/**
 * The replay index (validation step 14): an envelope id is claimed once,
 * atomically and permanently. The SQLite store relies on the primary key and
 * `INSERT ... ON CONFLICT DO NOTHING`, whose change count says whether this call
 * inserted the row: two claims of one id, from one connection or two, from one
 * process or two, give exactly one `true`. Ids are checked against the UUID
 * pattern before they reach a query.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { assertIdentifier, UUID_RE } from "../../primitives/ids/patterns.ts";
import { type Clock, systemClock } from "../../primitives/time/clock.ts";

/** Where the validator records the envelope ids it accepted. */
export interface ReplayStore {
  /**
   * Claims `envelopeId`: `true` the first time it is ever claimed, `false` for
   * every later claim (also after a restart, for durable stores).
   */
  claim(envelopeId: string): Promise<boolean>;
}

/**
 * An in-memory replay store for tests and tools (forgets everything on exit).
 *
 * @example
 * ```ts
 * import { MemoryReplayStore } from "./replay_store.ts";
 * const store = new MemoryReplayStore();
 * const id = "0190f3a2-7b1c-7def-8a12-3456789abcde";
 * if (!await store.claim(id) || await store.claim(id)) throw new Error("unexpected");
 * ```
 */
export class MemoryReplayStore implements ReplayStore {
  #claimed = new Set<string>();

  /** Claims `envelopeId` in memory. */
  claim(envelopeId: string): Promise<boolean> {
    try {
      assertIdentifier(envelopeId, UUID_RE, "envelope id");
    } catch (err: unknown) {
      return Promise.reject(err);
    }
    if (this.#claimed.has(envelopeId)) return Promise.resolve(false);
    this.#claimed.add(envelopeId);
    return Promise.resolve(true);
  }

  /** Number of claimed ids. */
  get size(): number {
    return this.#claimed.size;
  }
}

/** Options for {@linkcode SqliteReplayStore.open}. */
export interface SqliteReplayStoreOptions {
  /** Clock for the `claimed_at` column (informational); default the system clock. */
  clock?: Clock;
  /** How long to wait for another connection's write lock; default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * SQLite `synchronous` level. `"full"` (default) fsyncs every claim, so a claim
   * survives power loss; `"normal"` survives a process crash but may lose the last
   * claims on power loss (several times faster: an fsync per claim bounds "full" by the disk).
   */
  synchronous?: "full" | "normal";
}

/**
 * A durable replay store in one SQLite database (WAL; by default
 * `synchronous=FULL`, so a claim that returned `true` survives a crash and a power
 * loss: "permanently", as validation step 14 of docs/design.md section 3 says).
 *
 * @example
 * ```ts
 * import { SqliteReplayStore } from "./replay_store.ts";
 * const dir = await Deno.makeTempDir();
 * const store = SqliteReplayStore.open(`${dir}/replay.db`);
 * const id = "0190f3a2-7b1c-7def-8a12-3456789abcde";
 * const first = await store.claim(id);
 * const second = await store.claim(id);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * if (!first || second) throw new Error("unexpected");
 * ```
 */
export class SqliteReplayStore implements ReplayStore {
  #db: DatabaseSync;
  #insert: StatementSync;
  #state: StatementSync;
  #finish: StatementSync;
  #reopen: StatementSync;
  #clock: Clock;

  private constructor(db: DatabaseSync, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    this.#insert = db.prepare(
      "INSERT INTO replay (envelope_id, claimed_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
    );
    this.#state = db.prepare("SELECT state FROM replay WHERE envelope_id = ?");
    this.#finish = db.prepare("UPDATE replay SET state = ? WHERE envelope_id = ? AND state = 0");
    this.#reopen = db.prepare("UPDATE replay SET state = 0 WHERE envelope_id = ? AND state <> 1");
  }

  /** Opens (creating if needed) the replay database at `path`. */
  static open(path: string, options: SqliteReplayStoreOptions = {}): SqliteReplayStore {
    const db = new DatabaseSync(path);
    try {
      db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec(`PRAGMA synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
      // state: 0 claimed and in progress, 1 handled, 2 handler failed (dead-lettered)
      db.exec(
        "CREATE TABLE IF NOT EXISTS replay (" +
          "envelope_id TEXT PRIMARY KEY NOT NULL, claimed_at INTEGER NOT NULL, " +
          "state INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
      );
      return new SqliteReplayStore(db, options.clock ?? systemClock);
    } catch (err: unknown) {
      db.close();
      throw err;
    }
  }

  /** Claims `envelopeId`; the insert is one atomic statement. */
  claim(envelopeId: string): Promise<boolean> {
    try {
      assertIdentifier(envelopeId, UUID_RE, "envelope id");
      const result = this.#insert.run(envelopeId, Math.trunc(this.#clock.now()));
      return Promise.resolve(Number(result.changes) === 1);
    } catch (err: unknown) {
      return Promise.reject(err);
    }
  }

  /**
   * Claims `envelopeId`, or resumes a claim this store holds in progress: after a
   * crash between the claim and the end of the handler the recovered entry must
   * run again (at-least-once into the handler), while an envelope already handled
   * or dead-lettered stays refused. Agents process their inbox one entry at a
   * time and recover quarantine before watching, so an in-progress claim is
   * always their own interrupted work.
   */
  claimOrResume(envelopeId: string): Promise<"claimed" | "resumed" | "refused"> {
    try {
      assertIdentifier(envelopeId, UUID_RE, "envelope id");
      const inserted = Number(this.#insert.run(envelopeId, Math.trunc(this.#clock.now())).changes);
      if (inserted === 1) return Promise.resolve("claimed");
      const row = this.#state.get(envelopeId) as { state?: number } | undefined;
      return Promise.resolve(row?.state === 0 ? "resumed" : "refused");
    } catch (err: unknown) {
      return Promise.reject(err);
    }
  }

  /** Records how the handler of a claimed envelope ended. */
  finish(envelopeId: string, outcome: "done" | "failed"): Promise<void> {
    try {
      this.#finish.run(outcome === "done" ? 1 : 2, envelopeId);
      return Promise.resolve();
    } catch (err: unknown) {
      return Promise.reject(err);
    }
  }

  /**
   * Re-opens a claim for an operator retry: true when the envelope was claimed
   * here and not handled (failed or interrupted), false otherwise.
   */
  reopen(envelopeId: string): Promise<boolean> {
    try {
      assertIdentifier(envelopeId, UUID_RE, "envelope id");
      return Promise.resolve(Number(this.#reopen.run(envelopeId).changes) === 1);
    } catch (err: unknown) {
      return Promise.reject(err);
    }
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }

  /** Closes the database (for `using`). */
  [Symbol.dispose](): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
