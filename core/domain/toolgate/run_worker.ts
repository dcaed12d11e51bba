/**
 * Runs one verified tool module in a Worker with no permissions, bytes in and
 * bytes out, under a time limit. The worker starts from `worker_entry.ts` and is
 * sent the module bytes that were hashed, never a path, so the file on disk can
 * change after the check without changing what runs. The entry itself is a blob:
 * URL of source held in memory: starting a tool needs no read permission.
 *
 * Calls go through the process's {@linkcode ToolWorkerPool}: a worker that has
 * already imported the module (pre-started, or kept from the tool's previous
 * call) takes the call, so the import's cost is off the call's path. One worker
 * serves up to 64 calls of one tool and module digest, one at a time, and the
 * worker entry checks the global scope and the built-ins before and after every
 * call; a failed, timed-out or misbehaving worker is replaced (see
 * `worker_pool.ts` and `worker_entry.ts`).
 *
 * The host process must run with `--unstable-worker-options` (Deno requires it for
 * `deno.permissions`; without it the process exits with code 70).
 *
 * @module
 */
import type { ToolOutput } from "./protocol.ts";
import { type RunToolOptions, ToolWorkerPool } from "./worker_pool.ts";

export {
  type RunToolOptions,
  ToolTimeoutError,
  ToolWorkerPool,
  type WarmWorkerInfo,
} from "./worker_pool.ts";

let shared: ToolWorkerPool | undefined;

/**
 * The process-wide pool {@linkcode runToolWorker} uses (created on first use).
 *
 * @example
 * ```ts
 * import { toolWorkerPool } from "./run_worker.ts";
 * if (toolWorkerPool().warm().length !== 0) throw new Error("no call ran yet");
 * ```
 */
export function toolWorkerPool(): ToolWorkerPool {
  shared ??= new ToolWorkerPool();
  return shared;
}

/**
 * Runs a tool and returns its output, or throws `handler_error` when the tool
 * fails or replies with something malformed, and {@linkcode ToolTimeoutError}
 * (`tool_timeout`) when it exceeds its time limit. Afterwards a warm worker for
 * the same module bytes waits for the next call (an idle Worker keeps the
 * process alive: end with `Deno.exit` or {@linkcode closeToolWorkers}).
 */
export function runToolWorker(options: RunToolOptions): Promise<ToolOutput> {
  return toolWorkerPool().run(options);
}

/**
 * Terminates the process-wide pool's warm workers (e.g. before a clean exit); a
 * later {@linkcode runToolWorker} starts a new pool.
 *
 * @example
 * ```ts
 * import { closeToolWorkers } from "./run_worker.ts";
 * closeToolWorkers();
 * ```
 */
export function closeToolWorkers(): void {
  shared?.close();
  shared = undefined;
}
