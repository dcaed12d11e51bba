/**
 * The shapes of the red-team suite (`saoe attack`): an attack is a named
 * function that tries one or more ways through one boundary of a live pipeline
 * and reports, for each try, whether the boundary held (`BLOCKED`, with where it
 * stopped and the reason code the audit ledger recorded) or not (`BREACH`).
 *
 * @module
 */
import type { AttackContext } from "./context.ts";

/** Whether a boundary held. */
export type Verdict = "BLOCKED" | "BREACH";

/** The outcome of one try. */
export interface AttackLine {
  /** The attack's name, e.g. `tampered-envelope`. */
  attack: string;
  verdict: Verdict;
  /** What was tried, e.g. `one payload byte changed after signing`. */
  tried: string;
  /** Where it stopped (or what got through), e.g. `sanitization, validation step 4`. */
  where: string;
  /** The reason code recorded (or expected, for a breach). */
  code: string;
}

/** One named attack. */
export interface Attack {
  /** Command-line name (`saoe attack NAME`). */
  name: string;
  /** Its number in docs/threat-model.md's list of attacks. */
  number: number;
  /** One sentence for `--list`. */
  summary: string;
  /** Runs every try against the live pipeline of `ctx`. */
  run(ctx: AttackContext): Promise<AttackLine[]>;
}

/**
 * One output line: `BLOCKED: <tried> — <where> (<code>)` or `BREACH: …`.
 *
 * @example
 * ```ts
 * import { formatLine } from "./types.ts";
 * const line = formatLine({
 *   attack: "replay", verdict: "BLOCKED", tried: "a replayed envelope",
 *   where: "sanitization, validation step 14", code: "replay",
 * });
 * if (line !== "BLOCKED: replay: a replayed envelope — sanitization, validation step 14 (replay)") {
 *   throw new Error(line);
 * }
 * ```
 */
export function formatLine(line: AttackLine): string {
  return `${line.verdict}: ${line.attack}: ${line.tried} — ${line.where} (${line.code})`;
}
