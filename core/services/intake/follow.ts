/**
 * Following one session through the audit ledger (what `saoe submit --wait`
 * shows): the ledger is opened read-only by the caller and read for new records
 * at a short interval (a reader's view of the supervisor's single-writer ledger,
 * not an agent transport). Each event of the session is reported as it appears;
 * the session ends at `published` (success) or at the first `rejected`,
 * `handler_error` or `plan_rejected` of the session (failure).
 *
 * @module
 */
import { type AuditEvent, decodeEvent, type EventType } from "../../domain/ledger/events.ts";
import type { Ledger } from "../../domain/ledger/ledger.ts";

/** Event types that end a session as a failure. */
export const FAILURE_EVENTS: readonly EventType[] = ["rejected", "handler_error", "plan_rejected"];

/** How following ended. */
export type FollowOutcome =
  | { outcome: "published"; event: AuditEvent }
  | { outcome: "failed"; event: AuditEvent }
  | { outcome: "timeout" };

/** Options for {@linkcode followSession}. */
export interface FollowSessionOptions {
  /** The ledger, opened read-only. */
  ledger: Pick<Ledger, "read">;
  session: string;
  /** Read records after this seq (the head before the submission). */
  afterSeq: number;
  /** Called once per event of the session, in ledger order. */
  onEvent(event: AuditEvent): void;
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Milliseconds between reads; default 100. */
  intervalMs?: number;
}

/**
 * Reports the session's events until it is published, fails, or time runs out.
 *
 * @example
 * ```ts
 * import { followSession } from "./follow.ts";
 * const session = crypto.randomUUID();
 * const bytes = new TextEncoder().encode(JSON.stringify({
 *   type: "published", at: "2026-01-01T00:00:00Z", agent: "deployment", session_id: session,
 * }));
 * const ledger = { read: () => [{ seq: 1, prevHash: bytes, hash: bytes, bytes }] };
 * const end = await followSession({ ledger, session, afterSeq: 0, onEvent() {}, timeoutMs: 1000 });
 * if (end.outcome !== "published") throw new Error();
 * ```
 */
export async function followSession(options: FollowSessionOptions): Promise<FollowOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 100;
  let after = options.afterSeq;
  for (;;) {
    for (const record of options.ledger.read({ afterSeq: after, limit: 1000 })) {
      after = record.seq;
      let event: AuditEvent;
      try {
        event = decodeEvent(record.bytes);
      } catch {
        continue; // not an event this reader understands (e.g. a checkpoint record)
      }
      if (event.session_id !== options.session) continue;
      options.onEvent(event);
      if (event.type === "published") return { outcome: "published", event };
      // the viewer refusing a file under output/ (output_mismatch) is no step of the session failing
      if (FAILURE_EVENTS.includes(event.type) && event.reason !== "output_mismatch") {
        return { outcome: "failed", event };
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) return { outcome: "timeout" };
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
  }
}
