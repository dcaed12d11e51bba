/**
 * The supervisor ↔ agent protocol.
 *
 * **Handover (stdin)**: the supervisor writes exactly one JSON line and keeps
 * the pipe open for the agent's life. The line carries the agent's secrets
 * (docs/design.md section 1: released by the supervisor to the process it
 * launched, never a file the agent can read) and the settings the agent cannot
 * read itself (it has no access to `config.json`). The open pipe is the agent's
 * lifeline: its end (the supervisor exited, or was killed with SIGKILL and the
 * kernel closed its descriptors) tells the agent at once that nobody audits it
 * any more, and the agent stops. Any byte after the handover line is the
 * supervisor asking the agent to stop after its in-flight work: inside its
 * sandbox the agent is not the supervisor's child (bubblewrap is, and does not
 * forward signals), so this is how a graceful stop reaches it.
 *
 * **Reports (stdout)**: one JSON line per report: `{"ready":true}` once the agent
 * watches its inbox, or a DSSE statement of an audit event
 * (`application/vnd.saoe.audit-event.v1+json`) signed with the agent's key. The
 * supervisor verifies the signature against the agent key directory, refuses an
 * event that names another agent, and appends the event bytes to the ledger
 * (single writer). Agents log to stderr; nothing else may be written to stdout.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { fromBase64 } from "../../primitives/crypto/bytes.ts";
import { SEED_BYTES } from "../../primitives/crypto/ed25519.ts";
import {
  arr,
  type Decoded,
  int,
  literal,
  obj,
  oneOf,
  optional,
  record,
  str,
} from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { agentId, MAX_VERSION, sha256HexId } from "../../primitives/ids/patterns.ts";
import { AGE_IDENTITY_RE } from "../../domain/vault/age.ts";
import { VERSION_KEY_RE } from "../../domain/trust/version_store_file.ts";

/** Largest handover line. */
export const MAX_HANDOVER_BYTES = 64 * 1024;
/** Most versions a handover's trust floor carries. */
export const MAX_HANDOVER_FLOOR_KEYS = 300;
/** Most revoked key ids a handover's trust floor carries (the newest). */
export const MAX_HANDOVER_REVOKED = 128;

const operatorToken = obj({
  /** Short public id of the credential (shown in audit events, never the secret). */
  id: str({ pattern: /^[a-z0-9-]{1,32}$/, maxLength: 32 }),
  /** Hex SHA-256 of the secret token. */
  sha256: sha256HexId,
  kind: oneOf(["person", "automation"] as const),
});

/** An operator credential as intake knows it: hashed, never the secret. */
export type OperatorToken = Decoded<typeof operatorToken>;

const handoverShape = obj({
  format: literal(1),
  agent: agentId,
  /** Absolute, symlink-free home path (Deno checks paths as written). */
  home: str({ pattern: /^\/[^\0\n,]*$/, maxLength: 4096 }),
  /** Absolute repository path (tool modules are read from it). */
  repo: str({ pattern: /^\/[^\0\n,]*$/, maxLength: 4096 }),
  root_pin: sha256HexId,
  skew_ms: int(0, 3_600_000),
  ed25519_seed: str({ maxLength: 64 }),
  age_identity: str({ pattern: AGE_IDENTITY_RE, maxLength: 128 }),
  /** Milliseconds between reconciliation scans of the inbox. */
  reconcile_ms: int(1, 3_600_000),
  /**
   * The trust floor: versions (by version store key) the agent's version store
   * never reads lower than, and key ids (hex SHA-256 of the public key) its
   * directory must not list as current; from the supervisor's witnessed ledger.
   */
  trust_floor: optional(obj({
    versions: record(VERSION_KEY_RE, int(0, MAX_VERSION), MAX_HANDOVER_FLOOR_KEYS),
    revoked_keyids: arr(sha256HexId, MAX_HANDOVER_REVOKED),
  })),
  /** Viewer only: the witness policy, to verify the witnessed checkpoint it shows. */
  witnesses: optional(obj({
    threshold: int(1, 16),
    list: arr(
      obj({
        name: str({ pattern: /^[^\s+]{1,128}$/, maxLength: 128 }),
        vkey: str({ pattern: /^[^\s]{1,300}$/, maxLength: 300 }),
      }),
      16,
    ),
  })),
  /** Intake only: the operator credentials it accepts. */
  operator_tokens: optional(arr(operatorToken, 64)),
  /** Intake only: the viewer's origin, for the link to a submitted session. */
  viewer_url: optional(
    str({ pattern: /^http:\/\/127\.0\.0\.1:[1-9][0-9]{0,4}$/, maxLength: 32 }),
  ),
  /** Intake only: per-credential quotas and the global queue depth limit. */
  intake: optional(obj({
    person_per_minute: int(1, 1_000_000),
    automation_per_minute: int(1, 1_000_000),
    max_queue_depth: int(1, 10_000_000),
  })),
});

/** The decoded handover. */
export type Handover = Decoded<typeof handoverShape>;

/** A decoded handover with its seed as bytes. */
export type ReceivedHandover = Handover & { seed: Uint8Array<ArrayBuffer> };

/** Decodes and checks a handover line. */
export function decodeHandover(bytes: Uint8Array): ReceivedHandover {
  const handover = handoverShape(parseStrictJson(bytes, { maxBytes: MAX_HANDOVER_BYTES }), "$");
  const seed = fromBase64(handover.ed25519_seed, "handover seed");
  if (seed.byteLength !== SEED_BYTES) {
    throw new SaoeError("parse_error", `Invalid handover: the seed is not ${SEED_BYTES} bytes`);
  }
  return { ...handover, seed };
}

/** The handover, and the lifeline: resolves when the supervisor's end of stdin closes. */
export interface HandoverRead {
  handover: ReceivedHandover;
  lifeline: Promise<void>;
  /** Resolves when the supervisor writes anything after the handover line: stop. */
  stopRequested: Promise<void>;
}

/** What the supervisor writes after the handover to ask an agent to stop. */
export const STOP_REQUEST: Uint8Array = new Uint8Array([0x73, 0x74, 0x6f, 0x70, 0x0a]); // "stop\n"

/**
 * Reads the handover line from stdin (at most 64 KiB up to its newline), then
 * keeps reading what remains of stdin (nothing, normally) until it ends.
 * An end before the newline is a refusal: the supervisor died mid-handover.
 */
export async function readHandover(
  stdin: ReadableStream<Uint8Array> = Deno.stdin.readable,
): Promise<HandoverRead> {
  const reader = stdin.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let lineEnd = -1;
  while (lineEnd < 0) {
    const { value, done } = await reader.read();
    if (done) {
      reader.releaseLock();
      throw new SaoeError(
        "parse_error",
        "Cannot read the handover: stdin ended before its line did (the supervisor is gone)",
      );
    }
    const newline = value.indexOf(0x0a);
    lineEnd = newline < 0 ? -1 : size + newline;
    size += value.byteLength;
    if ((lineEnd < 0 ? size : lineEnd) > MAX_HANDOVER_BYTES) {
      reader.releaseLock();
      throw new SaoeError("size_exceeded", "Cannot read the handover: it exceeds 64 KiB");
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
    c.fill(0);
  }
  try {
    const stop = Promise.withResolvers<void>();
    if (size > lineEnd + 1) stop.resolve(); // the stop request came with the handover
    return {
      handover: decodeHandover(bytes.subarray(0, lineEnd)),
      lifeline: drain(reader, stop.resolve),
      stopRequested: stop.promise,
    };
  } finally {
    bytes.fill(0);
  }
}

async function drain(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  onStop: () => void,
): Promise<void> {
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value.byteLength > 0) onStop();
    }
  } catch {
    // a read error is the end of the pipe too
  } finally {
    reader.releaseLock();
  }
}

/** The readiness report line of an agent that listens on no port. */
export const READY_LINE = '{"ready":true}';

/**
 * The readiness report line: `{"ready":true}`, or with the loopback address the
 * agent's service listens on (`{"ready":true,"listen":"127.0.0.1:PORT"}`), so the
 * supervisor knows a port the operating system assigned.
 *
 * @example
 * ```ts
 * import { parseReadyLine, readyLine } from "./protocol.ts";
 * if (parseReadyLine(readyLine("127.0.0.1:4711"))?.listen !== "127.0.0.1:4711") throw new Error();
 * if (parseReadyLine(readyLine()) === undefined) throw new Error();
 * if (parseReadyLine('{"ready":true,"listen":"10.0.0.1:80"}') !== undefined) throw new Error();
 * ```
 */
export function readyLine(listen?: string): string {
  if (listen === undefined) return READY_LINE;
  if (!READY_LISTEN_RE.test(listen)) throw new TypeError(`Not a loopback address: ${listen}`);
  return `{"ready":true,"listen":"${listen}"}`;
}

const READY_LISTEN_RE = /^127\.0\.0\.1:[1-9][0-9]{0,4}$/;
const READY_LINE_RE = /^\{"ready":true(?:,"listen":"(127\.0\.0\.1:[1-9][0-9]{0,4})")?\}$/;

/**
 * A readiness line in exactly the form {@linkcode readyLine} writes, or
 * `undefined` for anything else (which must then be a signed report).
 */
export function parseReadyLine(line: string): { listen?: string } | undefined {
  if (line.length > 64) return undefined;
  const m = READY_LINE_RE.exec(line);
  if (m === null) return undefined;
  const port = m[1] === undefined ? undefined : Number(m[1].slice("127.0.0.1:".length));
  if (port !== undefined && port > 65535) return undefined;
  return m[1] === undefined ? {} : { listen: m[1] };
}
