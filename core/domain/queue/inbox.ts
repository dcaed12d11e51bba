/**
 * The inbox watcher (docs/design.md sections 4 and 10): one recursive `Deno.watchFs` on
 * `agents/<me>/inbox/` (and on `agents/<me>/retry/` when given), started **before** the
 * startup scan, because files present before a watcher starts produce no events.
 * Scan and events are de-duplicated by file name. The OS may drop events (queue
 * overflow), so a cheap reconciliation scan, one `readDir` per sender folder, runs
 * from a single `setTimeout` chain every `reconcileMs` (30 s by default). There is
 * no polling loop: when idle, that timer is the only wakeup.
 *
 * Entries run one at a time per inbox unless `concurrency` says otherwise. The
 * watcher only finds entries; {@linkcode processEntry} decides what happens to them.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { isHiddenName } from "../../primitives/fs/atomic_write.ts";
import { EntryQueue } from "./entry_queue.ts";
import { ensureFolders, scanFolders, type WatchedFolder, watchedFolders } from "./scan.ts";
import type { EntryCallback, EntryOrigin } from "./types.ts";

/** Default interval of the reconciliation scan: 30 seconds. */
export const DEFAULT_RECONCILE_MS = 30_000;

/** Options shared by {@linkcode watchInbox} and the polling transport. */
export interface InboxOptions {
  /** `agents/<me>/inbox/`: the agent's whole inbox. */
  inbox: string;
  /** The agents this one receives from: the subfolders of `inbox` to watch. */
  senders: readonly string[];
  /** `agents/<me>/retry/`, where `saoe quarantine retry` puts claimed entries; watched too. */
  retryDir?: string;
  /** Runs one entry (normally {@linkcode processEntry}); failures go to `onError`. */
  onEntry: EntryCallback;
  /** Entries processed at once; default 1. */
  concurrency?: number;
  /** Stops the transport: the watcher and timer are closed, running entries finish. */
  signal: AbortSignal;
  /** Told about failures (an `onEntry` rejection, a folder that cannot be read); default `console.error`. */
  onError?(err: unknown): void;
}

/** Options for {@linkcode watchInbox}. */
export interface WatchInboxOptions extends InboxOptions {
  /** Milliseconds between reconciliation scans; default 30 000. */
  reconcileMs?: number;
}

/** A running inbox transport. */
export interface InboxTransport {
  /** Entries found and not finished yet (waiting or running), for queue-depth limits. */
  depth(): number;
  /** Runs a reconciliation scan now. */
  scan(): Promise<void>;
  /** Resolves after the signal aborted and the watcher, timer and running entries are done. */
  closed: Promise<void>;
}

function defaultOnError(err: unknown): void {
  console.error(err);
}

/** Maps a watcher event path to the folder it lies directly in. */
function folderOf(
  byDir: ReadonlyMap<string, WatchedFolder>,
  path: string,
): WatchedFolder | undefined {
  return byDir.get(dirname(path));
}

/**
 * Starts watching an inbox. Creates the sender folders when missing, starts the
 * watcher, scans once, then reacts to events and reconciles every `reconcileMs`.
 *
 * @example
 * ```ts
 * import { watchInbox } from "./inbox.ts";
 * const inbox = await Deno.makeTempDir();
 * const controller = new AbortController();
 * const seen = Promise.withResolvers<string>();
 * const transport = await watchInbox({
 *   inbox, senders: ["planner"], signal: controller.signal,
 *   onEntry: (path) => { seen.resolve(path); return Promise.resolve(); },
 * });
 * await Deno.writeTextFile(`${inbox}/planner/${crypto.randomUUID()}.satl`, "x");
 * await seen.promise;
 * controller.abort();
 * await transport.closed;
 * await Deno.remove(inbox, { recursive: true });
 * ```
 */
export async function watchInbox(options: WatchInboxOptions): Promise<InboxTransport> {
  const reconcileMs = options.reconcileMs ?? DEFAULT_RECONCILE_MS;
  if (!Number.isFinite(reconcileMs) || reconcileMs < 1) {
    throw new RangeError(`Invalid reconcileMs ${reconcileMs}: expected a positive number`);
  }
  const onError = options.onError ?? defaultOnError;
  const folders = watchedFolders(options.inbox, options.senders, options.retryDir);
  const byDir = new Map(folders.map((f) => [f.dir, f]));
  await ensureFolders(folders);
  const queue = new EntryQueue({
    onEntry: options.onEntry,
    onError,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  const add = (name: string, path: string, origin: EntryOrigin): void =>
    queue.add(name, path, origin);
  const scan = (): Promise<void> => scanFolders(folders, add, onError);

  if (options.signal.aborted) {
    return { depth: () => 0, scan: () => Promise.resolve(), closed: Promise.resolve() };
  }
  // the watcher first: a file arriving during the scan is then seen by one or both
  const paths = options.retryDir === undefined ? options.inbox : [options.inbox, options.retryDir];
  const watcher = Deno.watchFs(paths, { recursive: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = (): void => {
    clearTimeout(timer);
    timer = undefined;
    watcher.close();
  };
  options.signal.addEventListener("abort", onAbort, { once: true });

  const events = (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        for (const path of event.paths) {
          const folder = folderOf(byDir, path);
          const name = basename(path);
          if (folder !== undefined && !isHiddenName(name)) add(name, path, folder.origin);
        }
      }
    } catch (err: unknown) {
      if (!options.signal.aborted) onError(err);
    }
    if (!options.signal.aborted) {
      // the reconciliation scan still finds every entry, only later
      onError(
        new SaoeError(
          "io_error",
          `Inbox watcher on ${options.inbox} stopped: falling back to scans`,
        ),
      );
    }
  })();

  let scanning: Promise<void> = Promise.resolve();
  const reconcile = async (): Promise<void> => {
    timer = undefined;
    scanning = scan();
    await scanning;
    if (!options.signal.aborted) timer = setTimeout(reconcile, reconcileMs);
  };
  scanning = scan();
  await scanning;
  if (!options.signal.aborted) timer = setTimeout(reconcile, reconcileMs);

  const aborted = new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    else options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  const closed = (async () => {
    await events;
    await aborted;
    clearTimeout(timer);
    // a reconciliation scan may be running: its readDir must end before `closed`
    await scanning;
    await queue.stop();
  })();
  return { depth: () => queue.size, scan, closed };
}
