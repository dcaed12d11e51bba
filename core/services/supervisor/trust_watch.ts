/**
 * Watches `trust/` and `vault/` with `Deno.watchFs` and calls back once a burst
 * of changes has settled (a ceremony writes many files; the callback runs after
 * `debounceMs` without a new event). What to do about a change is the caller's
 * decision: the supervisor re-verifies the whole home and applies it only if it
 * verifies, so a watched event is a hint, never trusted as such.
 *
 * @module
 */

/** Options for {@linkcode watchTrust}. */
export interface WatchTrustOptions {
  /** Folders to watch (recursively). */
  paths: readonly string[];
  /** Quiet time before the callback runs; default 300 ms. */
  debounceMs?: number;
  /** Called once per settled burst of changes. */
  onChange(): void;
  /** Reports a watcher failure. */
  onError(err: unknown): void;
}

/** A running watch; `close` stops it. */
export interface TrustWatch {
  close(): void;
}

/**
 * Starts watching.
 *
 * @example
 * ```ts
 * import { watchTrust } from "./trust_watch.ts";
 * const dir = await Deno.makeTempDir();
 * const changed = Promise.withResolvers<void>();
 * const watch = watchTrust({
 *   paths: [dir], debounceMs: 20, onChange: () => changed.resolve(), onError: () => {},
 * });
 * await Deno.writeTextFile(`${dir}/a`, "x");
 * await changed.promise;
 * watch.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function watchTrust(options: WatchTrustOptions): TrustWatch {
  const debounceMs = options.debounceMs ?? 300;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const watcher = Deno.watchFs([...options.paths], { recursive: true });
  (async () => {
    try {
      for await (const _event of watcher) {
        if (closed) break;
        clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          if (!closed) options.onChange();
        }, debounceMs);
      }
    } catch (err: unknown) {
      if (!closed) options.onError(err);
    }
  })();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      try {
        watcher.close();
      } catch {
        // already closed
      }
    },
  };
}
