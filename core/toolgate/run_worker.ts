/**
 * Runs one verified tool module in a Worker with no permissions, bytes in and
 * bytes out, under a time limit. The worker starts from `worker_entry.ts` and is
 * sent the module bytes that were hashed, never a path, so the file on disk can
 * change after the check without changing what runs. The entry itself is a blob:
 * URL of source held in memory: starting a tool needs no read permission.
 *
 * The host process must run with `--unstable-worker-options` (Deno requires it for
 * `deno.permissions`; without it the process exits with code 70).
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { readReply, type ToolOutput, type ToolRequest } from "./protocol.ts";
import { WORKER_ENTRY_SOURCE } from "./worker_entry.ts";

/** Options for {@linkcode runToolWorker}. */
export interface RunToolOptions {
  /** Tool name, for messages. */
  tool: string;
  /** Exact module bytes whose SHA-256 matched the signed manifest. */
  module: Uint8Array<ArrayBuffer>;
  args: unknown;
  input: Uint8Array;
  /** Time limit; the worker is terminated when it passes. */
  timeoutMs: number;
}

/**
 * A tool exceeded its time limit. Its worker was terminated, but Deno 2.9's
 * `Worker.terminate()` cannot interrupt a busy loop (denoland/deno#35657): the
 * thread may keep spinning until the process exits, so the caller must stop
 * using this process for tools and let it be restarted.
 */
export class ToolTimeoutError extends SaoeError {
  /** Creates the refusal for `tool` after `timeoutMs`. */
  constructor(tool: string, timeoutMs: number) {
    super(
      "tool_timeout",
      `Tool ${tool} failed: it did not finish within ${timeoutMs} ms and was terminated`,
    );
    this.name = "ToolTimeoutError";
  }
}

/**
 * Runs a tool and returns its output, or throws `handler_error` when the tool
 * fails or replies with something malformed, and {@linkcode ToolTimeoutError}
 * (`tool_timeout`) when it exceeds its time limit.
 */
export function runToolWorker(options: RunToolOptions): Promise<ToolOutput> {
  const entry = URL.createObjectURL(
    new Blob([WORKER_ENTRY_SOURCE], { type: "application/javascript" }),
  );
  let worker: Worker;
  try {
    worker = new Worker(entry, { type: "module", deno: { permissions: "none" } } as WorkerOptions);
  } catch (err: unknown) {
    URL.revokeObjectURL(entry);
    throw err;
  }
  return new Promise<ToolOutput>((resolve, reject) => {
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // a worker that replied may still hold timers or loops: end it either way
      worker.terminate();
      URL.revokeObjectURL(entry);
      action();
    };
    const fail = (message: string) =>
      finish(() =>
        reject(new SaoeError("handler_error", `Tool ${options.tool} failed: ${message}`))
      );
    const timer = setTimeout(
      () => finish(() => reject(new ToolTimeoutError(options.tool, options.timeoutMs))),
      options.timeoutMs,
    );
    worker.onmessage = (event: MessageEvent<unknown>) => {
      let reply;
      try {
        reply = readReply(event.data);
      } catch (err: unknown) {
        fail(err instanceof Error ? err.message : "malformed reply");
        return;
      }
      if (reply.ok) {
        const output = reply.output;
        finish(() => resolve(output));
      } else fail(reply.error);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      fail(event.message);
    };
    worker.onmessageerror = () => fail("its reply could not be deserialised");
    const request: ToolRequest = {
      module: options.module,
      args: options.args,
      input: options.input,
    };
    worker.postMessage(request);
  });
}
