/**
 * One `published` event per session and agent in the ledger. Deployment reports a
 * publication again when the envelope that completed it is resumed after a
 * crash (it cannot know whether its first report reached the supervisor, whose
 * pipe keeps a line the agent wrote before it died); the supervisor keeps the
 * first and drops a repeat by the same agent for the same session, with a log
 * line. Keyed by agent too: another agent reporting `published` first (a
 * compromised one) must not make the supervisor drop deployment's own report.
 * It remembers the most recent reports (a resume follows its crash within
 * seconds), a bounded number of them.
 *
 * @module
 */
import type { AuditEvent } from "../../domain/ledger/events.ts";

/** Remembers which agent reported which session published. */
export class PublishedOnce {
  readonly #reported = new Set<string>(); // agent NUL session
  readonly #remember: number;

  /** Remembers at most `remember` sessions (default 100,000). */
  constructor(remember = 100_000) {
    this.#remember = remember;
  }

  /**
   * False for a `published` event of a session the same agent already reported
   * published; true for every other event (and remembers a `published`).
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
    const key = `${event.agent}\u0000${event.session_id}`;
    if (this.#reported.has(key)) return false;
    this.#reported.add(key);
    if (this.#reported.size > this.#remember) {
      this.#reported.delete(this.#reported.values().next().value!);
    }
    return true;
  }
}
