/**
 * The in-memory work list shared by the watcher and the polling transport: entries
 * keyed by file name, so one entry is processed once even when the startup scan,
 * the reconciliation scan and several watcher events all report it, and two
 * entries of the same name (from different senders) are never in flight together.
 *
 * @module
 */
import type { EntryCallback, EntryOrigin } from "./types.ts";

interface Pending {
  path: string;
  origin: EntryOrigin;
}

/** Options for {@linkcode EntryQueue}. */
export interface EntryQueueOptions {
  /** Runs one entry. */
  onEntry: EntryCallback;
  /** Entries processed at once; default 1 (serialised per inbox). */
  concurrency?: number;
  /** Told about an `onEntry` failure; the entry stays on disk for the next scan. */
  onError(err: unknown): void;
}

/** Name-keyed, de-duplicating work list with bounded concurrency. */
export class EntryQueue {
  #options: EntryQueueOptions;
  #concurrency: number;
  #pending = new Map<string, Pending>();
  #running = new Set<string>();
  // names reported again while running: a new file may have arrived under the name
  #again = new Map<string, Pending>();
  #stopped = false;
  #idle: (() => void)[] = [];

  /** Creates an empty queue. */
  constructor(options: EntryQueueOptions) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`Invalid concurrency ${concurrency}: expected a positive integer`);
    }
    this.#options = options;
    this.#concurrency = concurrency;
  }

  /** Entries waiting or running. */
  get size(): number {
    return this.#pending.size + this.#running.size;
  }

  /** Adds an entry unless one of that name is already waiting or running. */
  add(name: string, path: string, origin: EntryOrigin): void {
    if (this.#stopped || this.#pending.has(name)) return;
    if (this.#running.has(name)) {
      this.#again.set(name, { path, origin });
      return;
    }
    this.#pending.set(name, { path, origin });
    this.#pump();
  }

  /** Stops starting new entries; resolves when the running ones have finished. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#pending.clear();
    this.#again.clear();
    return this.#running.size === 0 ? Promise.resolve() : new Promise((r) => this.#idle.push(r));
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#concurrency && this.#pending.size > 0) {
      const [name, item] = this.#pending.entries().next().value!;
      this.#pending.delete(name);
      this.#running.add(name);
      this.#run(name, item);
    }
  }

  async #run(name: string, item: Pending): Promise<void> {
    try {
      await this.#options.onEntry(item.path, item.origin);
    } catch (err: unknown) {
      this.#options.onError(err);
    } finally {
      this.#running.delete(name);
      const again = this.#again.get(name);
      this.#again.delete(name);
      if (again !== undefined && !this.#stopped) this.#pending.set(name, again);
      if (this.#running.size === 0 && this.#stopped) {
        for (const resolve of this.#idle.splice(0)) resolve();
      }
      this.#pump();
    }
  }
}
