/**
 * TEST AND BENCHMARK ONLY: an inbox transport that polls `readDir` every 500 ms
 * instead of watching, with the same options and handle as {@linkcode watchInbox}.
 * It exists so the benchmark can compare the watcher's latency and idle cost with
 * a polling loop (docs/design.md section 1: no polling). Production code must
 * not use it: it wakes up twice a second when idle and adds up to 500 ms of
 * latency.
 *
 * @module
 */
import { EntryQueue } from "../../core/domain/queue/entry_queue.ts";
import { ensureFolders, scanFolders, watchedFolders } from "../../core/domain/queue/scan.ts";
import type { InboxOptions, InboxTransport } from "../../core/domain/queue/inbox.ts";

/** Options for {@linkcode pollInboxForBenchmark}. */
export interface PollInboxOptions extends InboxOptions {
  /** Milliseconds between scans; default 500. */
  intervalMs?: number;
}

/**
 * Starts the polling transport (benchmarks and tests only).
 *
 * @example
 * ```ts
 * import { pollInboxForBenchmark } from "./polling_inbox.ts";
 * const inbox = await Deno.makeTempDir();
 * const controller = new AbortController();
 * const seen = Promise.withResolvers<void>();
 * const transport = await pollInboxForBenchmark({
 *   inbox, senders: ["planner"], signal: controller.signal, intervalMs: 20,
 *   onEntry: () => { seen.resolve(); return Promise.resolve(); },
 * });
 * await Deno.writeTextFile(`${inbox}/planner/${crypto.randomUUID()}.satl`, "x");
 * await seen.promise;
 * controller.abort();
 * await transport.closed;
 * await Deno.remove(inbox, { recursive: true });
 * ```
 */
export async function pollInboxForBenchmark(options: PollInboxOptions): Promise<InboxTransport> {
  const intervalMs = options.intervalMs ?? 500;
  const onError = options.onError ?? ((err: unknown) => console.error(err));
  const folders = watchedFolders(options.inbox, options.senders, options.retryDir);
  await ensureFolders(folders);
  const queue = new EntryQueue({
    onEntry: options.onEntry,
    onError,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  const scan = (): Promise<void> =>
    scanFolders(folders, (name, path, origin) => queue.add(name, path, origin), onError);
  const done = Promise.withResolvers<void>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async (): Promise<void> => {
    timer = undefined;
    await scan();
    if (options.signal.aborted) done.resolve();
    else timer = setTimeout(tick, intervalMs);
  };
  options.signal.addEventListener("abort", () => {
    // while a scan runs (timer unset) the tick itself resolves after it
    if (timer !== undefined) {
      clearTimeout(timer);
      done.resolve();
    }
  }, { once: true });
  if (options.signal.aborted) done.resolve();
  else await tick();
  const closed = (async () => {
    await done.promise;
    await queue.stop();
  })();
  return { depth: () => queue.size, scan, closed };
}
