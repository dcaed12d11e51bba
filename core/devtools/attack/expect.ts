/**
 * Judging an attempt by the audit ledger. Each attempt names the refusal event
 * that proves the boundary held (the agent, the reason code and, where the
 * refusal can carry it, the envelope id) and the events that would prove it did
 * not (e.g. `validated` or `tool_executed` for the attacker's envelope). A
 * refusal for the wrong reason is a breach too (the defence under test did not
 * fire; something later caught it), and so is no refusal at all: a boundary
 * counts as held only when the ledger says so.
 *
 * @module
 */
import type { AuditEvent } from "../../domain/ledger/events.ts";
import type { LedgerProbe, SeqEvent } from "./ledger_probe.ts";
import type { AttackLine } from "./types.ts";

/** Event types that end an attempt with a refusal or failure. */
export const REFUSAL_TYPES: readonly string[] = [
  "rejected",
  "plan_rejected",
  "handler_error",
  "intake_refused",
];

/** What the ledger must show for one attempt. */
export interface Expectation {
  /** What was tried. */
  tried: string;
  /** The reason code expected. */
  code: string;
  /** Events about this attempt (same envelope id, same agent…). */
  subject(event: AuditEvent): boolean;
  /** The refusal that proves the boundary held. */
  refusal(event: AuditEvent): boolean;
  /** Events that prove it did not hold; default `validated` about the subject. */
  breach?(event: AuditEvent): boolean;
  /** A breach only the events together show (e.g. a second `validated`): the deciding event. */
  breachAmong?(subjectEvents: readonly AuditEvent[]): AuditEvent | undefined;
  /** Where it stopped, from the refusal event. */
  where(event: AuditEvent): string;
  /** The code to report for a refusal; default {@linkcode Expectation.code}. */
  codeOf?(event: AuditEvent): string;
}

/** Where an envelope refusal happened, from its event: `<agent>, <what>`. */
export function refusalWhere(event: AuditEvent, what = "envelope validation"): string {
  return `${event.agent}, ${what}`;
}

function resolve(e: Expectation, events: readonly SeqEvent[]): AttackLine | undefined {
  const mine = events.filter((ev) => e.subject(ev));
  const breach = mine.find((ev) => (e.breach ?? ((x) => x.type === "validated"))(ev)) ??
    e.breachAmong?.(mine) as SeqEvent | undefined;
  if (breach !== undefined) {
    return {
      attack: "",
      verdict: "BREACH",
      tried: e.tried,
      where: `${breach.agent} recorded ${breach.type} (ledger record ${breach.seq})`,
      code: e.code,
    };
  }
  const held = mine.find((ev) => e.refusal(ev));
  if (held !== undefined) {
    return {
      attack: "",
      verdict: "BLOCKED",
      tried: e.tried,
      where: e.where(held),
      code: e.codeOf?.(held) ?? e.code,
    };
  }
  const other = mine.find((ev) => REFUSAL_TYPES.includes(ev.type));
  if (other !== undefined) {
    return {
      attack: "",
      verdict: "BREACH",
      tried: e.tried,
      where: `the expected check did not fire: ${other.agent} refused later with ${
        other.reason ?? "no reason"
      } (ledger record ${other.seq})`,
      code: e.code,
    };
  }
  return undefined;
}

/** Options for {@linkcode awaitVerdicts}. */
export interface AwaitOptions {
  probe: LedgerProbe;
  /** Look only at events after this sequence number. */
  since: number;
  timeoutMs: number;
  /** Poll interval; default 50 ms. */
  intervalMs?: number;
}

/**
 * Polls the ledger until every expectation resolved (held, breached or refused
 * for another reason) or the time is up; an unresolved one is a `BREACH` (no
 * refusal event). Returns one line per expectation, in order, `attack` left
 * empty for the caller.
 */
export async function awaitVerdicts(
  expectations: readonly Expectation[],
  options: AwaitOptions,
): Promise<AttackLine[]> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const events = await options.probe.since(options.since);
    const lines = expectations.map((e) => resolve(e, events));
    if (lines.every((l) => l !== undefined)) return lines as AttackLine[];
    if (Date.now() > deadline) {
      return lines.map((l, i) =>
        l ?? {
          attack: "",
          verdict: "BREACH" as const,
          tried: expectations[i]!.tried,
          where: `no refusal event in the audit ledger after ${
            Math.round(options.timeoutMs / 1000)
          } s`,
          code: expectations[i]!.code,
        }
      );
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}

/**
 * The usual expectation for an envelope the attacker dropped into `agent`'s
 * inbox: a `rejected` event by that agent with `code` and the envelope's id;
 * `validated` for that id is the breach.
 */
export function rejectedEnvelope(options: {
  tried: string;
  agent: string;
  envelopeId: string;
  code: string;
  step?: number;
}): Expectation {
  return {
    tried: options.tried,
    code: options.code,
    subject: (e) => e.envelope_id === options.envelopeId && e.agent === options.agent,
    refusal: (e) => e.type === "rejected" && e.reason === options.code,
    where: (e) =>
      refusalWhere(
        e,
        options.step !== undefined ? `validation step ${options.step}` : "envelope validation",
      ),
  };
}
