/**
 * One `published` event per session in the ledger. Deployment reports a
 * publication again when the envelope that completed it is resumed after a
 * crash (it cannot know whether its first report reached the supervisor, whose
 * pipe keeps a line the agent wrote before it died); the supervisor keeps the
 * first and drops a repeat for a session it recorded `published` for, with a
 * log line. It remembers the most recent sessions (a resume follows its crash
 * within seconds), a bounded number of them.
 *
 * @module
 */
import type { AuditEvent } from "../../domain/ledger/events.ts";

/** Remembers the sessions recorded as published. */
export class PublishedOnce {
  readonly #sessions = new Set<string>();
  readonly #remember: number;

  /** Remembers at most `remember` sessions (default 100,000). */
  constructor(remember = 100_000) {
    this.#remember = remember;
  }

  /**
   * False for a `published` event of a session already recorded as published;
   * true for every other event (and remembers the session of a `published`).
   *
   * @example
   * ```ts
   * import { PublishedOnce } from "./published_once.ts";
   * const once = new PublishedOnce();
   * const e = {
   *   type: "published" as const,
   *   at: "2026-01-01T00:00:00Z",
   *   agent: "deployment",
   *   session_id: crypto.randomUUID(),
   * };
   * if (!once.admit(e) || once.admit(e)) throw new Error();
   * ```
   */
  admit(event: AuditEvent): boolean {
    if (event.type !== "published" || event.session_id === undefined) return true;
    if (this.#sessions.has(event.session_id)) return false;
    this.#sessions.add(event.session_id);
    if (this.#sessions.size > this.#remember) {
      this.#sessions.delete(this.#sessions.values().next().value!);
    }
    return true;
  }
}
