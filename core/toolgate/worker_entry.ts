/**
 * The worker side of the tool protocol: the code every tool Worker starts from.
 * It waits for one {@linkcode ToolRequest}, imports the tool from a blob: URL of
 * the exact verified bytes it was sent (what runs is what was hashed, with no
 * window between the hash and the load), calls its `run(args, input)` and posts
 * one {@linkcode ToolReply}.
 *
 * The worker is started from a blob: URL of {@linkcode WORKER_ENTRY_SOURCE}, built
 * from {@linkcode workerMain} in the host's memory, so starting a tool needs no
 * read permission and reads no file that could have changed since the agent
 * started. `workerMain` must therefore be self-contained: it closes over nothing.
 *
 * The Worker has no permissions at all (`deno: { permissions: "none" }`). Node's
 * `process.env` is replaced by an empty object before the tool loads: jsdom's
 * undici reads an environment variable at import, which would throw `NotCapable`;
 * the tool sees an empty environment and `Deno.env` stays denied.
 *
 * @module
 */
import type { ToolReply, ToolRequest } from "./protocol.ts";

/** The body of a tool Worker; runs inside the worker, never in the host. */
export function workerMain(): void {
  interface ToolModule {
    run(args: unknown, input: Uint8Array): Promise<unknown>;
  }
  // the dedicated worker scope; the host's lib types describe a window instead
  const scope = globalThis as unknown as {
    postMessage(message: unknown): void;
    close(): void;
    onmessage: ((event: MessageEvent<ToolRequest>) => void) | null;
  };
  const reply = (message: ToolReply): void => {
    scope.postMessage(message);
    scope.close();
  };
  const handle = async (request: ToolRequest): Promise<void> => {
    const { default: process } = await import("node:process");
    Object.defineProperty(process, "env", { value: Object.freeze({}), configurable: false });
    const blob = new Blob([request.module], { type: "application/typescript" });
    const url = URL.createObjectURL(blob);
    try {
      const mod = (await import(url)) as Partial<ToolModule>;
      if (typeof mod.run !== "function") {
        reply({ ok: false, error: "Tool module exports no run function" });
        return;
      }
      const output = await mod.run(request.args, request.input);
      reply({ ok: true, output } as ToolReply);
    } finally {
      URL.revokeObjectURL(url);
    }
  };
  let handled = false;
  scope.onmessage = (event: MessageEvent<ToolRequest>) => {
    // one request per worker: a second message would reuse a tool's leftover state
    if (handled) return;
    handled = true;
    handle(event.data).catch((err: unknown) => {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : "tool failed";
      reply({ ok: false, error: message });
    });
  };
}

/** JavaScript source of a tool Worker's entry module. */
export const WORKER_ENTRY_SOURCE: string = `(${workerMain.toString()})();\n`;
