/**
 * Checks one line an agent wrote to its stdout before anything of it reaches the
 * ledger. A line is either the readiness report or a DSSE statement of an audit
 * event that verifies against the agent's current keys in the verified key
 * directory and names that agent. Anything else is a sandbox violation: a
 * compromised agent must not be able to write events in another agent's name,
 * forge the supervisor's own events, or smuggle arbitrary bytes into the ledger.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { PublicKeyEntry } from "../../primitives/dsse/types.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { parseDsse } from "../../primitives/dsse/parse.ts";
import { expectPayloadType, verifySignatures } from "../../primitives/dsse/verify.ts";
import {
  type AuditEvent,
  decodeEvent,
  type EventType,
  MAX_EVENT_BYTES,
} from "../../domain/ledger/events.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { parseReadyLine } from "../runtime/protocol.ts";

/** Longest report line accepted (a base64 event of 64 KiB plus its signature fits). */
export const MAX_REPORT_LINE_BYTES = 128 * 1024;

/** Event types only the supervisor reports: an agent claiming one is forging. */
export const SUPERVISOR_EVENT_TYPES: readonly EventType[] = [
  "agent_started",
  "agent_exited",
  "agent_refused",
  "stray_moved",
  "sandbox_violation",
  "checkpoint",
  "key_rotated",
  "trust_refused",
  "trust_versions",
  "operator_action",
  "operator_action_refused",
];

/** A checked report line. */
export type ReportLine =
  | {
    kind: "ready";
    /** The loopback address the agent's service listens on, when it has one. */
    listen?: string;
  }
  | {
    kind: "event";
    event: AuditEvent;
    /** The exact signed event bytes: what the ledger stores. */
    bytes: Uint8Array;
  };

/** Where the current keys of an agent come from (the verified key directory). */
export interface CurrentKeys {
  currentKeys(agent: string, nowMs: number): readonly PublicKeyEntry[];
}

/** Options for {@linkcode checkReportLine}. */
export interface CheckReportLineOptions {
  /** The agent whose stdout the line came from. */
  agent: string;
  directory: CurrentKeys;
  clock: Clock;
}

/** A readiness line (short, ASCII, exactly as the runtime writes it), or `undefined`. */
function readiness(line: Uint8Array): { listen?: string } | undefined {
  if (line.byteLength > 64 || line[0] !== 0x7b) return undefined;
  return parseReadyLine(new TextDecoder().decode(line));
}

/**
 * Checks a report line; throws a {@linkcode SaoeError} (`size_exceeded`,
 * `parse_error`, `duplicate_key`, `wrong_payload_type`, `unknown_sender`,
 * `revoked_key`, `bad_signature`, `sender_not_allowed`) for anything that is not
 * a report this agent may make.
 *
 * @example
 * ```ts
 * import { checkReportLine } from "./report_line.ts";
 * const line = new TextEncoder().encode('{"ready":true}');
 * const directory = { currentKeys: () => [] };
 * const r = await checkReportLine(line, { agent: "planner", directory, clock: { now: Date.now } });
 * if (r.kind !== "ready") throw new Error();
 * ```
 */
export async function checkReportLine(
  line: Uint8Array,
  options: CheckReportLineOptions,
): Promise<ReportLine> {
  const { agent } = options;
  const ready = readiness(line);
  if (ready !== undefined) return { kind: "ready", ...ready };
  if (line.byteLength > MAX_REPORT_LINE_BYTES) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot accept a report line of agent "${agent}": ${line.byteLength} bytes exceeds ${MAX_REPORT_LINE_BYTES}`,
      { agent },
    );
  }
  const env = parseDsse(line, MAX_REPORT_LINE_BYTES);
  const what = `audit event reported by agent "${agent}"`;
  expectPayloadType(env, PAYLOAD_TYPES.auditEvent, what);
  const keys = options.directory.currentKeys(agent, options.clock.now());
  await verifySignatures(env, {
    trusted: [{ name: `the keys of agent "${agent}"`, keys, threshold: 1 }],
    signatureCode: "bad_signature",
    what,
  });
  if (env.payload.byteLength > MAX_EVENT_BYTES) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot accept ${what}: the event is ${env.payload.byteLength} bytes, more than ${MAX_EVENT_BYTES}`,
      { agent },
    );
  }
  const event = decodeEvent(env.payload);
  if (event.agent !== agent) {
    throw new SaoeError(
      "sender_not_allowed",
      `Cannot accept ${what}: the event names agent ${JSON.stringify(event.agent)}`,
      { agent },
    );
  }
  if (SUPERVISOR_EVENT_TYPES.includes(event.type)) {
    throw new SaoeError(
      "sender_not_allowed",
      `Cannot accept ${what}: only the supervisor reports "${event.type}" events`,
      { agent },
    );
  }
  return { kind: "event", event, bytes: env.payload };
}
