/**
 * The message protocol between ToolGate (host) and a tool Worker. `load` hands
 * the worker the verified module bytes (it imports them right away, before any
 * call exists: a pre-started, warm worker); it answers `ready` once the module
 * is imported. Each `run` then hands it one call's id, args and input, one call
 * at a time, and gets exactly one {@linkcode ToolReply} carrying the same id (a
 * reply with another id is a protocol failure). The host never trusts the
 * worker's messages: {@linkcode readWorkerMessage} checks them field by field, so
 * a compromised tool can only fail, not smuggle a different kind of value into
 * the agent.
 *
 * @module
 */

/** Host → worker, first message: the module to import now. */
export interface LoadRequest {
  kind: "load";
  /** Exact module bytes whose SHA-256 matched the signed tool manifest. */
  module: Uint8Array<ArrayBuffer>;
}

/** Host → worker: one call (the host sends the next only after this one's reply). */
export interface RunRequest {
  kind: "run";
  /** The call's number in this worker, echoed by its reply. */
  id: number;
  args: unknown;
  input: Uint8Array;
}

/** Host → worker. */
export type ToolRequest = LoadRequest | RunRequest;

/** Worker → host: the module was imported (and warmed) without error. */
export interface ReadyMessage {
  kind: "ready";
}

/** What a tool produced. */
export interface ToolOutput {
  bytes: Uint8Array;
  media_type: string;
  width?: number;
  height?: number;
}

/** Worker → host: the outcome of the call. */
export type ToolReply =
  | { ok: true; id: number; output: ToolOutput }
  | { ok: false; id: number; error: string };

/** Longest media type accepted from a tool. */
const MAX_MEDIA_TYPE = 128;
const MEDIA_TYPE_RE = /^[a-z]+\/[a-z0-9.+-]+(; charset=utf-8)?$/;

function dimension(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError("Invalid tool reply: width and height must be positive integers");
  }
  return value;
}

/**
 * Checks a reply posted by a tool worker; anything unexpected is a `TypeError`.
 *
 * @example
 * ```ts
 * import { readReply } from "./protocol.ts";
 * const reply = readReply({ ok: true, id: 1, output: { bytes: new Uint8Array(1), media_type: "text/plain" } });
 * if (!reply.ok) throw new Error();
 * ```
 */
export function readReply(data: unknown): ToolReply {
  if (data === null || typeof data !== "object") throw new TypeError("Invalid tool reply");
  const record = data as Record<string, unknown>;
  const id = record.id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
    throw new TypeError("Invalid tool reply: id must be a positive integer");
  }
  if (record.ok === false) {
    const error = typeof record.error === "string" ? record.error.slice(0, 500) : "tool failed";
    return { ok: false, id, error };
  }
  if (record.ok !== true) throw new TypeError("Invalid tool reply: ok must be a boolean");
  const output = record.output;
  if (output === null || typeof output !== "object") {
    throw new TypeError("Invalid tool reply: output must be an object");
  }
  const { bytes, media_type, width, height } = output as Record<string, unknown>;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("Invalid tool reply: output.bytes must be a Uint8Array");
  }
  if (
    typeof media_type !== "string" || media_type.length > MAX_MEDIA_TYPE ||
    !MEDIA_TYPE_RE.test(media_type)
  ) {
    throw new TypeError("Invalid tool reply: output.media_type must be a media type");
  }
  const out: ToolOutput = { bytes, media_type };
  const w = dimension(width);
  const h = dimension(height);
  if (w !== undefined) out.width = w;
  if (h !== undefined) out.height = h;
  return { ok: true, id, output: out };
}

/**
 * Checks any message posted by a tool worker: a `ready` notice or a
 * {@linkcode ToolReply} (see {@linkcode readReply}); anything else is a `TypeError`.
 *
 * @example
 * ```ts
 * import { readWorkerMessage } from "./protocol.ts";
 * const message = readWorkerMessage({ kind: "ready" });
 * if (!("kind" in message)) throw new Error();
 * ```
 */
export function readWorkerMessage(data: unknown): ReadyMessage | ToolReply {
  if (data !== null && typeof data === "object" && "kind" in data) {
    const keys = Object.keys(data);
    if ((data as { kind: unknown }).kind === "ready" && keys.length === 1) return { kind: "ready" };
    throw new TypeError("Invalid tool message: unknown kind");
  }
  return readReply(data);
}
