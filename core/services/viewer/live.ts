/**
 * Follows the ledger for the viewer: at start it reads every record once (in
 * chunks, yielding between them, so the server answers meanwhile) to build the
 * session index, then hands each new record to the session index and to every
 * subscriber (the server-sent event streams).
 *
 * It is event-driven like the agents' inboxes: one `Deno.watchFs` on the
 * ledger's folder (`audit/`, which the viewer may read) wakes it when the
 * database or its WAL file changes; a burst of events is one read (one indexed
 * query on a read-only connection). An event can come before the commit it
 * belongs to is visible to readers (the WAL frames are written, then fsynced,
 * then published in the memory-mapped index, which raises no event), so every
 * burst is read once more a moment later ({@linkcode SETTLE_MS}). The OS may drop
 * events, so a slow fallback poll (every 30 s by default) reads too; when idle,
 * that timer is the only wakeup. The viewer cannot be notified by the supervisor and must not write
 * anything to be, so a watched event is only a hint to read.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import { systemTimers, type TimerHandle, type Timers } from "../../primitives/time/timers.ts";
import type { AuditRow, LedgerView } from "./ledger_view.ts";
import { SessionIndex, type SessionSummary } from "./sessions.ts";

/** What a subscriber receives for each new record. */
export interface LiveRecord {
  row: AuditRow;
  /** The session the record changed, if any (after the change). */
  session: SessionSummary | undefined;
}

/**
 * How long after a burst of events the ledger is read once more: a commit whose
 * WAL writes raised the events may become visible only after its fsync.
 */
export const SETTLE_MS = 250;

/** Default interval of the fallback poll: 30 seconds. */
export const DEFAULT_FALLBACK_MS = 30_000;

/** Options for {@linkcode LedgerTail}. */
export interface LedgerTailOptions {
  view: LedgerView;
  /**
   * Wake on changes in the folder of `view.path`; default true. False leaves the
   * fallback poll as the only wakeup (for a folder that cannot be watched).
   */
  watch?: boolean;
  /** Milliseconds between fallback polls, which catch a lost event; default 30 000. */
  fallbackMs?: number;
  /** Wait after a first event before reading, so a burst is one read; default 20. */
  coalesceMs?: number;
  /** Where read and watch errors go; default `console.error`. */
  log?(line: string): void;
  /** The timers of the coalescing wait and the fallback poll; default the runtime's. */
  timers?: Timers;
  /**
   * Opens the folder watcher; default `Deno.watchFs` (a test wraps it to see
   * which events the tail has handled).
   */
  watchFs?(path: string, options: { recursive: boolean }): Deno.FsWatcher;
}

const CHUNK = 5_000;

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The ledger follower.
 *
 * @example
 * ```ts
 * import { LedgerTail } from "./live.ts";
 * import { LedgerView } from "./ledger_view.ts";
 * const dir = await Deno.makeTempDir();
 * const tail = new LedgerTail({ view: new LedgerView(`${dir}/ledger.db`) });
 * tail.start();
 * await tail.ready; // no ledger yet: nothing to index
 * const unsubscribe = tail.subscribe((r) => console.log(r.row.seq));
 * unsubscribe();
 * await tail.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LedgerTail {
  /** Sessions seen so far. */
  readonly sessions: SessionIndex = new SessionIndex();
  readonly #view: LedgerView;
  readonly #watch: boolean;
  readonly #fallbackMs: number;
  readonly #coalesceMs: number;
  readonly #log: (line: string) => void;
  readonly #timers: Timers;
  readonly #watchFs: (path: string, options: { recursive: boolean }) => Deno.FsWatcher;
  readonly #subscribers = new Set<(record: LiveRecord) => void>();
  #watcher: Deno.FsWatcher | undefined;
  #events: Promise<void> = Promise.resolve();
  #fallbackTimer: TimerHandle | undefined;
  #wakeTimer: TimerHandle | undefined;
  #settleTimer: TimerHandle | undefined;
  #reading: Promise<void> | undefined;
  #again = false;
  #started = false;
  #stopped = false;
  #caughtUp = false;
  readonly #ready = Promise.withResolvers<void>();

  /** A follower of `options.view`; call {@linkcode LedgerTail.start}. */
  constructor(options: LedgerTailOptions) {
    const fallbackMs = options.fallbackMs ?? DEFAULT_FALLBACK_MS;
    if (!Number.isFinite(fallbackMs) || fallbackMs < 1) {
      throw new RangeError(`Invalid fallbackMs ${fallbackMs}: expected a positive number`);
    }
    const coalesceMs = options.coalesceMs ?? 20;
    if (!Number.isFinite(coalesceMs) || coalesceMs < 0) {
      throw new RangeError(`Invalid coalesceMs ${coalesceMs}: expected a non-negative number`);
    }
    this.#view = options.view;
    this.#watch = options.watch ?? true;
    this.#fallbackMs = fallbackMs;
    this.#coalesceMs = coalesceMs;
    this.#log = options.log ?? ((line) => console.error(line));
    this.#timers = options.timers ?? systemTimers;
    this.#watchFs = options.watchFs ?? ((path, watchOptions) => Deno.watchFs(path, watchOptions));
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

  /** True while a folder watcher wakes the tail (false: fallback polls only). */
  get watching(): boolean {
    return this.#watcher !== undefined;
  }

  /** Starts following: the watcher first, then the first read (a change during it is not lost). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    if (this.#watch) this.#startWatcher();
    this.#read();
  }

  /**
   * Reads the ledger now (or once more after the running read) and resolves when
   * that read is done: every record committed before the call is then indexed.
   * The viewer calls it before it refuses a file that no indexed `published`
   * event vouches for, since that event may have been appended a moment ago.
   */
  async catchUp(): Promise<void> {
    if (!this.#started || this.#stopped) return;
    this.#read();
    await this.#reading;
  }

  /** Calls `fn` for every record appended from now on; returns the unsubscribe function. */
  subscribe(fn: (record: LiveRecord) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  #startWatcher(): void {
    const path = this.#view.path;
    const dir = dirname(path);
    const name = basename(path);
    let watcher: Deno.FsWatcher;
    try {
      watcher = this.#watchFs(dir, { recursive: false });
    } catch (err: unknown) {
      this.#log(
        `viewer: cannot watch ${dir} (${
          describe(err)
        }): reading the ledger every ${this.#fallbackMs} ms`,
      );
      return;
    }
    this.#watcher = watcher;
    this.#events = (async () => {
      try {
        for await (const event of watcher) {
          if (this.#stopped) break;
          if (event.kind === "access") continue;
          // other files in audit/ (status.json every few seconds, anchor.json) are not the
          // ledger: `ledger.db`, `ledger.db-wal` and `ledger.db-journal` are; no path: a rescan
          if (
            event.paths.length === 0 || event.paths.some((p) => basename(p).startsWith(name))
          ) {
            this.#wake();
          }
        }
      } catch (err: unknown) {
        if (!this.#stopped) this.#log(`viewer: watching ${dir} failed: ${describe(err)}`);
      }
      if (!this.#stopped) {
        this.#watcher = undefined;
        this.#log(
          `viewer: the watcher on ${dir} stopped: reading the ledger every ${this.#fallbackMs} ms`,
        );
      }
    })();
  }

  /** A change was seen: one read after `coalesceMs`, or one more after the running read. */
  #wake(): void {
    if (this.#stopped) return;
    // re-armed by every event: one read SETTLE_MS after the last event of a burst
    if (this.#settleTimer !== undefined) this.#timers.clearTimeout(this.#settleTimer);
    this.#settleTimer = this.#timers.setTimeout(() => {
      this.#settleTimer = undefined;
      this.#read();
    }, SETTLE_MS);
    if (this.#wakeTimer !== undefined) return;
    if (this.#reading !== undefined) {
      this.#again = true;
      return;
    }
    this.#wakeTimer = this.#timers.setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#read();
    }, this.#coalesceMs);
  }

  /** Reads now unless a read runs (it then reads again when done); re-arms the fallback poll. */
  #read(): void {
    if (this.#stopped) return;
    if (this.#reading !== undefined) {
      this.#again = true;
      return;
    }
    this.#clearFallback();
    this.#reading = (async () => {
      do {
        this.#again = false;
        await this.#readNew();
      } while (this.#again && !this.#stopped);
      this.#reading = undefined;
      if (!this.#stopped) {
        this.#fallbackTimer = this.#timers.setTimeout(() => {
          this.#fallbackTimer = undefined;
          this.#read();
        }, this.#fallbackMs);
      }
    })();
  }

  async #readNew(): Promise<void> {
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
        // a yield to the event loop between chunks (not a wait): the server answers meanwhile
        await new Promise((r) => setTimeout(r, 0));
        if (this.#stopped) return;
      }
      if (!this.#caughtUp) {
        this.#caughtUp = true;
        this.#ready.resolve();
      }
    } catch (err: unknown) {
      this.#log(`viewer: cannot read the ledger: ${describe(err)}`);
    }
  }

  #clearFallback(): void {
    if (this.#fallbackTimer !== undefined) this.#timers.clearTimeout(this.#fallbackTimer);
    this.#fallbackTimer = undefined;
  }

  #publish(record: LiveRecord): void {
    for (const fn of this.#subscribers) {
      try {
        fn(record);
      } catch (err: unknown) {
        this.#log(`viewer: a live subscriber failed: ${describe(err)}`);
      }
    }
  }

  /** Stops following; resolves once the watcher is closed and a running read has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearFallback();
    if (this.#wakeTimer !== undefined) this.#timers.clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    if (this.#settleTimer !== undefined) this.#timers.clearTimeout(this.#settleTimer);
    this.#settleTimer = undefined;
    try {
      this.#watcher?.close();
    } catch {
      // already closed
    }
    this.#watcher = undefined;
    await this.#events;
    await this.#reading;
  }
}
