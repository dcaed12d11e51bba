/**
 * `GET /events`: server-sent events of new ledger records. Each record is sent as
 * `event: record` with `id: <seq>` and its event as JSON, and each session it
 * changed as `event: session` with the session's new state. The JSON is inert
 * wherever it lands: `<`, `>`, `&` and the two JavaScript line separators are
 * `\u` escapes, and the client inserts fields with `textContent` only.
 *
 * A stream starts after `after` (or the browser's `Last-Event-ID` on reconnect):
 * the records since then are sent first (at most {@linkcode MAX_CATCH_UP}),
 * while live records arriving meanwhile are held back and de-duplicated by seq,
 * so none is lost, repeated or reordered.
 *
 * @module
 */
import { securityHeaders } from "./headers.ts";
import type { LedgerTail, LiveRecord } from "./live.ts";
import { type AuditFilter, type AuditRow, type LedgerView, matches } from "./ledger_view.ts";
import type { SessionSummary } from "./sessions.ts";

/** Most records sent to catch a new stream up. */
export const MAX_CATCH_UP = 1_000;
/** Milliseconds between keep-alive comments. */
export const KEEPALIVE_MS = 15_000;

/**
 * JSON that is inert in HTML, in an event stream and in JavaScript source.
 *
 * @example
 * ```ts
 * import { inertJson } from "./event_stream.ts";
 * if (inertJson({ a: "</script>" }) !== '{"a":"\\u003c/script\\u003e"}') throw new Error();
 * ```
 */
export function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The JSON of a record event. */
export function recordData(row: AuditRow): string {
  return inertJson(
    row.event === undefined ? { seq: row.seq, undecodable: true } : {
      seq: row.seq,
      ...row.event,
    },
  );
}

/** The JSON of a session event. */
export function sessionData(s: SessionSummary): string {
  return inertJson({
    session: s.session,
    state: s.state,
    started_at: new Date(s.startedMs).toISOString(),
    total_ms: Math.max(0, s.updatedMs - s.startedMs),
    ...(s.publishedMs !== undefined ? { published_at: new Date(s.publishedMs).toISOString() } : {}),
  });
}

/** Options for {@linkcode eventStreamResponse}. */
export interface EventStreamOptions {
  tail: LedgerTail;
  view: LedgerView;
  filter: AuditFilter;
  /** Send records with a seq above this. */
  after: number;
  /** Registers the stream's closer, so the viewer can end every stream at shutdown. */
  track(close: () => void): () => void;
}

/** Opens one event stream. */
export function eventStreamResponse(options: EventStreamOptions): Response {
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let lastSent = options.after;
      let held: LiveRecord[] | undefined = [];
      let closed = false;
      const send = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          close();
        }
      };
      const deliver = (record: LiveRecord) => {
        const { row, session } = record;
        if (row.seq <= lastSent) return;
        lastSent = row.seq;
        if (matches(row, options.filter)) {
          send(`id: ${row.seq}\nevent: record\ndata: ${recordData(row)}\n\n`);
        }
        if (
          session !== undefined &&
          (options.filter.session === undefined || options.filter.session === session.session)
        ) {
          send(`event: session\ndata: ${sessionData(session)}\n\n`);
        }
      };
      const unsubscribe = options.tail.subscribe((record) => {
        if (held !== undefined) held.push(record);
        else deliver(record);
      });
      const keepalive = setInterval(() => send(": keep-alive\n\n"), KEEPALIVE_MS);
      const untrack = options.track(() => close());
      function close() {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(keepalive);
        untrack();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      }
      cleanup = close;
      send("retry: 2000\n\n");
      void (async () => {
        try {
          // only what the tail has indexed: later records arrive live, with their session
          const upto = options.tail.lastSeq;
          const rows = upto > options.after
            ? await options.view.after(options.after, Math.min(MAX_CATCH_UP, upto - options.after))
            : [];
          for (const row of rows) {
            const session = row.event?.session_id === undefined
              ? undefined
              : options.tail.sessions.get(row.event.session_id);
            deliver({ row, session });
          }
        } catch {
          // the live records still follow
        }
        const pending = held ?? [];
        held = undefined;
        for (const record of pending) deliver(record);
      })();
    },
    cancel() {
      cleanup();
    },
  });
  const headers = securityHeaders({ contentType: "text/event-stream; charset=utf-8" });
  headers.set("x-accel-buffering", "no");
  return new Response(body, { status: 200, headers });
}
