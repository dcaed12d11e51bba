/**
 * One row per session, derived from the audit ledger alone: its state (in
 * progress, published, rejected, failed), when each agent first and last
 * reported on it (the per-stage timings the sessions page shows), and the seqs
 * of its records (so the audit trail filtered by session reads only those).
 *
 * State rules, in order: a `published` event means published; otherwise a
 * `handler_error` means failed; otherwise a `rejected`, `plan_rejected` or
 * `intake_refused` means rejected; otherwise in progress. A refused replay in a
 * session that still publishes therefore shows as published, with the refusal in
 * its trail.
 *
 * The index also keeps what the session's first `published` event by deployment
 * vouches for (`files`: the SHA-256 of each file under `output/<session>/`): the
 * viewer serves an article or image only when its bytes hash to it.
 *
 * @module
 */
import type { AuditEvent } from "../../domain/ledger/events.ts";
import { publishedFilesOf } from "../deployment/published_files.ts";
import { parseTimestamp } from "../../primitives/time/timestamp.ts";

/** The states a session can be in. */
export const SESSION_STATES = ["in progress", "published", "rejected", "failed"] as const;

/** One session state. */
export type SessionState = typeof SESSION_STATES[number];

/** When one agent worked on a session. */
export interface StageTiming {
  agent: string;
  /** Epoch ms of the agent's first event for the session. */
  firstMs: number;
  /** Epoch ms of its last event for the session. */
  lastMs: number;
  events: number;
}

/** One session. */
export interface SessionSummary {
  session: string;
  state: SessionState;
  firstSeq: number;
  lastSeq: number;
  startedMs: number;
  updatedMs: number;
  /** Epoch ms of the `published` event, when there is one. */
  publishedMs: number | undefined;
  /**
   * What the first `published` event by deployment that names files vouches for:
   * path inside `output/<session>/` → hex SHA-256 (`published_files.ts`).
   */
  files: ReadonlyMap<string, string> | undefined;
  /** Refusals (`rejected`, `plan_rejected`, `intake_refused`) and failures (`handler_error`). */
  refusals: number;
  failures: number;
  /** Per agent, in the order agents first reported. */
  stages: StageTiming[];
  /** Seqs of the session's records, ascending. */
  seqs: number[];
}

const REFUSAL_TYPES = new Set(["rejected", "plan_rejected", "intake_refused"]);

function stateOf(s: SessionSummary): SessionState {
  if (s.publishedMs !== undefined) return "published";
  if (s.failures > 0) return "failed";
  if (s.refusals > 0) return "rejected";
  return "in progress";
}

/**
 * The sessions seen so far; {@linkcode SessionIndex.add} records in seq order.
 *
 * @example
 * ```ts
 * import { SessionIndex } from "./sessions.ts";
 * const index = new SessionIndex();
 * const session_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
 * index.add(1, { type: "validated", at: "2026-01-01T00:00:00.000Z", agent: "planner", session_id });
 * index.add(2, { type: "published", at: "2026-01-01T00:00:00.250Z", agent: "deployment", session_id });
 * if (index.get(session_id)?.state !== "published") throw new Error();
 * ```
 */
export class SessionIndex {
  readonly #sessions = new Map<string, SessionSummary>();
  #lastSeq = 0;

  /** The highest seq added. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Number of sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Adds one record; returns the session it changed, if any. Older seqs are ignored. */
  add(seq: number, event: AuditEvent): SessionSummary | undefined {
    if (seq <= this.#lastSeq) return undefined;
    this.#lastSeq = seq;
    const session = event.session_id;
    if (session === undefined) return undefined;
    const at = parseTimestamp(event.at) ?? 0;
    let s = this.#sessions.get(session);
    if (s === undefined) {
      s = {
        session,
        state: "in progress",
        firstSeq: seq,
        lastSeq: seq,
        startedMs: at,
        updatedMs: at,
        publishedMs: undefined,
        files: undefined,
        refusals: 0,
        failures: 0,
        stages: [],
        seqs: [],
      };
      this.#sessions.set(session, s);
    }
    s.lastSeq = seq;
    s.seqs.push(seq);
    s.startedMs = Math.min(s.startedMs, at);
    s.updatedMs = Math.max(s.updatedMs, at);
    if (event.type === "published") {
      s.publishedMs ??= at;
      s.files ??= publishedFilesOf(event);
    }
    if (event.type === "handler_error") s.failures++;
    if (REFUSAL_TYPES.has(event.type)) s.refusals++;
    let stage = s.stages.find((st) => st.agent === event.agent);
    if (stage === undefined) {
      stage = { agent: event.agent, firstMs: at, lastMs: at, events: 0 };
      s.stages.push(stage);
    }
    stage.firstMs = Math.min(stage.firstMs, at);
    stage.lastMs = Math.max(stage.lastMs, at);
    stage.events++;
    s.state = stateOf(s);
    return s;
  }

  /** Records `seq` as seen without a session (an undecodable record). */
  advance(seq: number): void {
    if (seq > this.#lastSeq) this.#lastSeq = seq;
  }

  /** One session, when it has records. */
  get(session: string): SessionSummary | undefined {
    return this.#sessions.get(session);
  }

  /**
   * Sessions newest first (by first record), optionally only those in `state`
   * and started before record `beforeSeq`; at most `limit`.
   */
  list(options: { limit: number; beforeSeq?: number; state?: SessionState }): SessionSummary[] {
    const all = [...this.#sessions.values()];
    const out: SessionSummary[] = [];
    for (let i = all.length - 1; i >= 0 && out.length < options.limit; i--) {
      const s = all[i]!;
      if (options.beforeSeq !== undefined && s.firstSeq >= options.beforeSeq) continue;
      if (options.state !== undefined && s.state !== options.state) continue;
      out.push(s);
    }
    return out;
  }
}
