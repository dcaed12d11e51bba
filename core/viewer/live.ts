/**
 * Follows the ledger for the viewer: at start it reads every record once (in
 * chunks, yielding between them, so the server answers meanwhile) to build the
 * session index, then polls the head and hands each new record to the session
 * index and to every subscriber (the server-sent event streams). Polling a
 * read-only connection is one indexed query; the viewer cannot be notified by
 * the supervisor and must not write anything to be.
 *
 * @module
 */
import type { AuditRow, LedgerView } from "./ledger_view.ts";
import { SessionIndex, type SessionSummary } from "./sessions.ts";

/** What a subscriber receives for each new record. */
export interface LiveRecord {
  row: AuditRow;
  /** The session the record changed, if any (after the change). */
  session: SessionSummary | undefined;
}

/** Options for {@linkcode LedgerTail}. */
export interface LedgerTailOptions {
  view: LedgerView;
  /** Milliseconds between polls; default 200. */
  intervalMs?: number;
  /** Where read errors go; default `console.error`. */
  log?(line: string): void;
}

const CHUNK = 5_000;

/**
 * The ledger follower.
 *
 * @example
 * ```ts ignore
 * const tail = new LedgerTail({ view: new LedgerView(ledgerPath(home)) });
 * tail.start();
 * const unsubscribe = tail.subscribe((r) => console.log(r.row.seq));
 * ```
 */
export class LedgerTail {
  /** Sessions seen so far. */
  readonly sessions: SessionIndex = new SessionIndex();
  readonly #view: LedgerView;
  readonly #intervalMs: number;
  readonly #log: (line: string) => void;
  readonly #subscribers = new Set<(record: LiveRecord) => void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #caughtUp = false;
  readonly #ready = Promise.withResolvers<void>();

  /** A follower of `options.view`; call {@linkcode LedgerTail.start}. */
  constructor(options: LedgerTailOptions) {
    this.#view = options.view;
    this.#intervalMs = options.intervalMs ?? 200;
    this.#log = options.log ?? ((line) => console.error(line));
  }

  /** True once every record present at start was indexed. */
  get caughtUp(): boolean {
    return this.#caughtUp;
  }

  /** Resolves once every record present at start was indexed. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** The highest seq indexed. */
  get lastSeq(): number {
    return this.sessions.lastSeq;
  }

  /** Starts following. */
  start(): void {
    void this.#tick();
  }

  /** Calls `fn` for every record appended from now on; returns the unsubscribe function. */
  subscribe(fn: (record: LiveRecord) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      for (;;) {
        const rows = await this.#view.after(this.sessions.lastSeq, CHUNK);
        for (const row of rows) {
          let session: SessionSummary | undefined;
          // an undecodable record still advances the index: it is shown in the trail, not lost
          if (row.event === undefined) this.sessions.advance(row.seq);
          else session = this.sessions.add(row.seq, row.event);
          if (this.#caughtUp) this.#publish({ row, session });
        }
        if (rows.length < CHUNK) break;
        await new Promise((r) => setTimeout(r, 0));
        if (this.#stopped) return;
      }
      if (!this.#caughtUp) {
        this.#caughtUp = true;
        this.#ready.resolve();
      }
    } catch (err: unknown) {
      this.#log(`viewer: cannot read the ledger: ${err instanceof Error ? err.message : err}`);
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), this.#intervalMs);
  }

  #publish(record: LiveRecord): void {
    for (const fn of this.#subscribers) {
      try {
        fn(record);
      } catch (err: unknown) {
        this.#log(`viewer: a live subscriber failed: ${err instanceof Error ? err.message : err}`);
      }
    }
  }

  /** Stops polling. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
