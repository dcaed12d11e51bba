/**
 * One ledger record as `saoe audit events` prints it: a line for people with
 * every field inert, or a JSON object. A record that does not decode as an audit
 * event is still shown (with why), never skipped: the ledger is evidence.
 *
 * @module
 */
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import type { JsonValue } from "../../core/primitives/json/strict_parse.ts";
import { inert } from "./output.ts";

/** A ledger record decoded, or the reason it could not be. */
export type DecodedRecord =
  | { seq: number; event: AuditEvent }
  | { seq: number; problem: string };

function scalar(value: JsonValue): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/**
 * A one-line summary of an event's `detail`: `key=value` pairs, nested values as
 * compact JSON, at most `max` characters (before escaping).
 *
 * @example
 * ```ts
 * import { detailSummary } from "./event_line.ts";
 * if (detailSummary({ to: "planner", n: 2 }, 80) !== "to=planner n=2") throw new Error();
 * ```
 */
export function detailSummary(detail: Record<string, JsonValue> | undefined, max: number): string {
  if (detail === undefined) return "";
  const text = Object.entries(detail).map(([k, v]) => `${k}=${scalar(v)}`).join(" ");
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * The human line of a record: seq, time, agent, type, session, envelope, reason,
 * detail. Absent fields print as `-`.
 *
 * @example
 * ```ts
 * import { eventLine } from "./event_line.ts";
 * const line = eventLine({ seq: 3, event: {
 *   type: "rejected", at: "2026-01-01T00:00:00Z", agent: "planner", reason: "schema",
 *   detail: { message: "bad\u001b[2J" },
 * } });
 * if (line.includes("\u001b") || !line.includes("reason=schema")) throw new Error(line);
 * ```
 */
export function eventLine(record: DecodedRecord): string {
  if ("problem" in record) {
    return `${String(record.seq).padStart(6)}  (undecodable record: ${inert(record.problem, 200)})`;
  }
  const e = record.event;
  return [
    String(record.seq).padStart(6),
    e.at,
    inert(e.agent).padEnd(14),
    e.type.padEnd(17),
    `session=${e.session_id ?? "-"}`,
    `envelope=${e.envelope_id ?? "-"}`,
    `reason=${e.reason ?? "-"}`,
    inert(detailSummary(e.detail, 240)),
  ].join("  ").trimEnd();
}

/**
 * The JSON object of a record: `{seq, ...event}` or `{seq, problem}`.
 *
 * @example
 * ```ts
 * import { eventJson } from "./event_line.ts";
 * const o = eventJson({ seq: 1, problem: "not JSON" });
 * if (o.seq !== 1) throw new Error();
 * ```
 */
export function eventJson(record: DecodedRecord): Record<string, unknown> {
  if ("problem" in record) return { seq: record.seq, problem: record.problem };
  return { seq: record.seq, ...record.event };
}
