/**
 * Running attempts and collecting their verdicts: in a batch (one ledger mark,
 * every drop, then one wait: for refusals that carry the envelope id) or one
 * after another (a mark per attempt: for refusals that happen before any id is
 * known, such as a bad signature or a parse error, which the ledger can only
 * tie to the attempt by order).
 *
 * @module
 */
import type { AttackContext } from "./context.ts";
import { awaitVerdicts, type Expectation, refusalWhere } from "./expect.ts";
import type { AttackLine } from "./types.ts";

/** One attempt: what to do and what the ledger must show. */
export interface Try {
  act(): Promise<unknown>;
  expect: Expectation;
}

function named(attack: string, lines: AttackLine[]): AttackLine[] {
  return lines.map((l) => ({ ...l, attack }));
}

/** Runs every attempt, then waits for all verdicts at once. */
export async function runBatch(
  ctx: AttackContext,
  attack: string,
  tries: readonly Try[],
): Promise<AttackLine[]> {
  const since = await ctx.probe.mark();
  for (const t of tries) await t.act();
  return named(
    attack,
    await awaitVerdicts(tries.map((t) => t.expect), {
      probe: ctx.probe,
      since,
      timeoutMs: ctx.timeoutMs,
    }),
  );
}

/** Runs the attempts one at a time, each judged on the events after its own mark. */
export async function runInOrder(
  ctx: AttackContext,
  attack: string,
  tries: readonly Try[],
): Promise<AttackLine[]> {
  const out: AttackLine[] = [];
  for (const t of tries) out.push(...await runBatch(ctx, attack, [t]));
  return out;
}

/**
 * Expects a `rejected` event by `agent` with `code` for a refusal that may carry
 * no envelope id (run it with {@linkcode runInOrder}); `validated` for
 * `envelopeId` is the breach.
 */
export function rejectedInOrder(options: {
  tried: string;
  agent: string;
  code: string;
  envelopeId?: string;
  step?: number;
}): Expectation {
  return {
    tried: options.tried,
    code: options.code,
    subject: (e) =>
      e.agent === options.agent &&
      ((options.envelopeId !== undefined && e.envelope_id === options.envelopeId) ||
        (e.type === "rejected" && e.envelope_id === undefined)),
    refusal: (e) => e.type === "rejected" && e.reason === options.code,
    where: (e) =>
      refusalWhere(
        e,
        options.step !== undefined ? `validation step ${options.step}` : "envelope validation",
      ),
  };
}
