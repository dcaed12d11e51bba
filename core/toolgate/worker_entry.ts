/**
 * The worker side of the tool protocol: the code every tool Worker starts from.
 * On `load` it imports the tool from a blob: URL of the exact verified bytes it
 * was sent (what runs is what was hashed, with no window between the hash and
 * the load), calls the module's optional `warm()` (no arguments: it sees no
 * call's data) and posts `ready`. On `run` it waits for that import, calls
 * `run(args, input)` and posts one {@linkcode ToolReply}, then closes. A worker
 * serves exactly one call: a second `run`, or a `run` before `load`, gets no
 * second answer, so no state of one call can reach another.
 *
 * The host may send `load` long before `run` (a pre-started, warm worker): the
 * costly import of a tool's dependencies is then off the call's path, while every
 * call still gets a fresh isolate.
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
    warm?(): unknown;
  }
  // the dedicated worker scope; the host's lib types describe a window instead
  const scope = globalThis as unknown as {
    postMessage(message: unknown): void;
    close(): void;
    onmessage: ((event: MessageEvent<ToolRequest>) => void) | null;
  };
  const describe = (err: unknown): string =>
    err instanceof Error ? `${err.name}: ${err.message}` : "tool failed";
  const load = async (module: Uint8Array<ArrayBuffer>): Promise<ToolModule> => {
    const { default: process } = await import("node:process");
    Object.defineProperty(process, "env", { value: Object.freeze({}), configurable: false });
    const url = URL.createObjectURL(new Blob([module], { type: "application/typescript" }));
    let mod: Partial<ToolModule>;
    try {
      mod = (await import(url)) as Partial<ToolModule>;
    } finally {
      URL.revokeObjectURL(url);
    }
    if (typeof mod.run !== "function") throw new Error("Tool module exports no run function");
    if (typeof mod.warm === "function") await mod.warm();
    return mod as ToolModule;
  };
  let loaded: Promise<ToolModule> | undefined;
  let handled = false;
  const reply = (message: ToolReply): void => {
    scope.postMessage(message);
    scope.close();
  };
  const call = async (args: unknown, input: Uint8Array): Promise<void> => {
    if (loaded === undefined) {
      reply({ ok: false, error: "Tool worker was asked to run before it was given a module" });
      return;
    }
    const mod = await loaded;
    const output = await mod.run(args, input);
    reply({ ok: true, output } as ToolReply);
  };
  scope.onmessage = (event: MessageEvent<ToolRequest>) => {
    const request = event.data;
    if (request.kind === "load") {
      if (loaded !== undefined) return;
      loaded = load(request.module);
      loaded.then(() => scope.postMessage({ kind: "ready" }), () => {
        // reported to the call, if one comes: the host sees the failure where it counts
      });
      return;
    }
    // one call per worker: a second message would reuse a tool's leftover state
    if (request.kind !== "run" || handled) return;
    handled = true;
    call(request.args, request.input).catch((err: unknown) => {
      reply({ ok: false, error: describe(err) });
    });
  };
}

/** JavaScript source of a tool Worker's entry module. */
export const WORKER_ENTRY_SOURCE: string = `(${workerMain.toString()})();\n`;
