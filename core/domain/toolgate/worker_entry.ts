/**
 * The worker side of the tool protocol: the code every tool Worker starts from.
 * On `load` it imports the tool from a blob: URL of the exact verified bytes it
 * was sent (what runs is what was hashed, with no window between the hash and
 * the load), calls the module's optional `warm()` (no arguments: it sees no
 * call's data), records the shared state (below) and posts `ready`. Each
 * `run` then calls `run(args, input)` and posts one {@linkcode ToolReply} with
 * the call's id. Calls are served one at a time; a `run` that arrives while one
 * is in progress is ignored (the host sends the next only after a reply, so it
 * would be a protocol failure, and the host times out). A failed call closes the
 * worker.
 *
 * A worker serves a bounded number of calls of one tool (the host,
 * `worker_pool.ts`, decides how many): a fresh isolate per call cost ~45 ms of
 * CPU, which capped the pipeline far below its throughput target. What one call
 * could leave for the next is checked: after the tool has loaded, the entry
 * records every own property (value, accessors, flags) of the global scope, of
 * every built-in constructor and its prototype (`Object.prototype`,
 * `Array.prototype`, the typed arrays, iterators, `Math`, `JSON`, …), and
 * compares them before and after every call. A call that added, removed or
 * replaced any of them (prototype pollution, a global left behind) fails, its
 * output is discarded and the worker closes; a change made later by a leftover
 * timer fails the next call the same way. Tools must keep no state of their own
 * between calls (the shipped tools build everything per call or only read
 * module constants); the tool's bytes are pinned by the signed manifest, so
 * that contract is reviewed with the code.
 *
 * The worker is started from a blob: URL of {@linkcode WORKER_ENTRY_SOURCE}, built
 * from {@linkcode workerMain} in the host's memory, so starting a tool needs no
 * read permission and reads no file that could have changed since the agent
 * started. `workerMain` must therefore be self-contained: it closes over nothing.
 *
 * The Worker has no permissions at all (`deno: { permissions: "none" }`): a tool
 * that touches the environment, a file or the network fails with `NotCapable`.
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
  // What a call could leave for the next one: the global scope and the shared
  // built-ins a prototype-pollution bug writes to. Freezing them would be
  // simpler, but a frozen Array.prototype or Object.prototype turns off V8's
  // fast element access for every array (image_sanitize ran 4x slower), so the
  // entry records their own properties once and compares before and after
  // every call instead.
  const shared = (): [string, object][] => {
    const global = globalThis as unknown as Record<string, unknown>;
    const out: [string, object][] = [["globalThis", globalThis]];
    for (const name of Object.getOwnPropertyNames(globalThis)) {
      const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
      // accessors (Deno's lazily loaded globals) are recorded as properties, not followed
      if (descriptor === undefined || !("value" in descriptor)) continue;
      const value = global[name];
      if (typeof value === "function" && typeof value.prototype === "object") {
        out.push([name, value], [`${name}.prototype`, value.prototype as object]);
      } else if (value !== null && typeof value === "object" && value !== globalThis) {
        out.push([name, value]);
      }
    }
    const typedArray = Object.getPrototypeOf(Uint8Array) as { prototype: object };
    out.push(["TypedArray", typedArray], ["TypedArray.prototype", typedArray.prototype]);
    for (const iterable of [[], new Map(), new Set(), ""]) {
      const iterator = Object.getPrototypeOf((iterable as Iterable<unknown>)[Symbol.iterator]());
      out.push(["an iterator prototype", iterator], [
        "Iterator.prototype",
        Object.getPrototypeOf(iterator),
      ]);
    }
    return out;
  };
  type Fingerprint = { name: string; target: object; props: [PropertyKey, unknown[]][] }[];
  const describeProp = (target: object, key: PropertyKey): unknown[] => {
    const d = Object.getOwnPropertyDescriptor(target, key)!;
    return [d.value, d.get, d.set, d.writable, d.enumerable, d.configurable];
  };
  const fingerprint = (): Fingerprint =>
    shared().map(([name, target]) => ({
      name,
      target,
      props: Reflect.ownKeys(target).map((key) => [key, describeProp(target, key)]),
    }));
  let baseline: Fingerprint | undefined;
  /** The first shared property that differs from the baseline, or undefined. */
  const changed = (): string | undefined => {
    if (baseline === undefined) return undefined;
    for (const { name, target, props } of baseline) {
      const keys = Reflect.ownKeys(target);
      const same = keys.length === props.length && keys.every((key, i) => props[i]![0] === key);
      if (!same) {
        const was = new Set(props.map(([key]) => key));
        const added = keys.find((key) => !was.has(key));
        if (added !== undefined) return `${name}.${String(added)} (added)`;
        const now = new Set<PropertyKey>(keys);
        const removed = props.find(([key]) => !now.has(key));
        return `${name}.${String(removed?.[0] ?? "?")} (removed)`;
      }
      for (const [key, was] of props) {
        const now = describeProp(target, key);
        if (now.some((v, j) => !Object.is(v, was[j]))) return `${name}.${String(key)} (replaced)`;
      }
    }
    return undefined;
  };
  const load = async (module: Uint8Array<ArrayBuffer>): Promise<ToolModule> => {
    const url = URL.createObjectURL(new Blob([module], { type: "application/typescript" }));
    let mod: Partial<ToolModule>;
    try {
      mod = (await import(url)) as Partial<ToolModule>;
    } finally {
      URL.revokeObjectURL(url);
    }
    if (typeof mod.run !== "function") throw new Error("Tool module exports no run function");
    if (typeof mod.warm === "function") await mod.warm();
    baseline = fingerprint();
    return mod as ToolModule;
  };
  let loaded: Promise<ToolModule> | undefined;
  let busy = false;
  const fail = (id: number, err: unknown): void => {
    scope.postMessage({ ok: false, id, error: describe(err) } satisfies ToolReply);
    scope.close();
  };
  const call = async (id: number, args: unknown, input: Uint8Array): Promise<void> => {
    if (loaded === undefined) {
      fail(id, new Error("Tool worker was asked to run before it was given a module"));
      return;
    }
    const mod = await loaded;
    const before = changed();
    if (before !== undefined) throw new Error(`Tool worker state changed between calls: ${before}`);
    const output = await mod.run(args, input);
    const after = changed();
    if (after !== undefined) throw new Error(`Tool call changed shared state: ${after}`);
    busy = false;
    scope.postMessage({ ok: true, id, output } as ToolReply);
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
    // one call at a time: the host waits for each reply before the next run
    if (request.kind !== "run" || busy) return;
    busy = true;
    call(request.id, request.args, request.input).catch((err: unknown) => fail(request.id, err));
  };
}

/** JavaScript source of a tool Worker's entry module. */
export const WORKER_ENTRY_SOURCE: string = `(${workerMain.toString()})();\n`;
