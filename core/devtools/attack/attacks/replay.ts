/**
 * Attack 2: replay. A valid envelope is processed (sanitization validates it and
 * forwards the article), then the very same bytes are dropped into the inbox
 * again; separately, two copies of one fresh envelope are raced into the inbox
 * under two names at the same moment. The replay claim (validation step 14,
 * atomic and permanent) must let exactly one copy through: the ledger must show
 * one `validated` and a `rejected … replay` for the other.
 *
 * @module
 */
import type { AttackContext } from "../context.ts";
import { articlePayload, drop, signedEnvelope } from "../craft.ts";
import { awaitVerdicts, type Expectation } from "../expect.ts";
import { runBatch } from "../tries.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "replay";

/**
 * The replay of `envelopeId` must be refused. `firstSeen`: the first copy was
 * validated before the mark, so any `validated` after it is the breach;
 * otherwise one `validated` is expected and a second is the breach.
 */
function replayOf(tried: string, envelopeId: string, firstSeen: boolean): Expectation {
  return {
    tried,
    code: "replay",
    subject: (e) => e.agent === "sanitization" && e.envelope_id === envelopeId,
    refusal: (e) => e.type === "rejected" && e.reason === "replay",
    breach: (e) => firstSeen && e.type === "validated",
    breachAmong: (events) => events.filter((e) => e.type === "validated")[1],
    where: (e) => `${e.agent}, validation step 14 (atomic replay claim)`,
  };
}

/** How many times sanitization validated `id`, waiting up to 2 s for the first. */
async function validatedCount(ctx: AttackContext, since: number, id: string): Promise<number> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const n = (await ctx.probe.since(since)).filter((e) =>
      e.type === "validated" && e.agent === "sanitization" && e.envelope_id === id
    ).length;
    if (n > 0 || Date.now() > deadline) {
      return n;
    }
    await new Promise((r) =>
      setTimeout(r, 50)
    );
  }
}

async function processedThenReplayed(ctx: AttackContext): Promise<AttackLine> {
  const since = await ctx.probe.mark();
  const first = await signedEnvelope(ctx, {
    from: "intake",
    to: "sanitization",
    template: "blog_article_intent",
    payload: articlePayload("replayed"),
  });
  await drop(ctx, "sanitization", "intake", first.bytes, first.envelopeId);
  const processed = await awaitVerdicts([{
    tried: "a valid envelope",
    code: "forwarded",
    subject: (e) => e.agent === "sanitization" && e.session_id === first.sessionId,
    refusal: (e) => e.type === "forwarded",
    breach: () => false,
    where: () => "processed",
  }], { probe: ctx.probe, since, timeoutMs: ctx.timeoutMs });
  const tried = "the same bytes dropped again after the envelope was processed";
  if (processed[0]!.verdict !== "BLOCKED") {
    return {
      attack: NAME,
      verdict: "BREACH",
      tried,
      where: "the original envelope was never processed, so the replay could not be judged",
      code: "replay",
    };
  }
  const [line] = await runBatch(ctx, NAME, [{
    act: () => drop(ctx, "sanitization", "intake", first.bytes, first.envelopeId),
    expect: replayOf(tried, first.envelopeId, true),
  }]);
  return await checkOnce(ctx, since, first.envelopeId, line!);
}

async function checkOnce(
  ctx: AttackContext,
  since: number,
  id: string,
  line: AttackLine,
): Promise<AttackLine> {
  const n = await validatedCount(ctx, since, id);
  if (line.verdict === "BLOCKED" && n !== 1) {
    return { ...line, verdict: "BREACH", where: `sanitization validated it ${n} times` };
  }
  if (line.verdict === "BREACH" && n > 1) {
    return { ...line, where: `sanitization validated it ${n} times` };
  }
  return line;
}

async function raced(ctx: AttackContext): Promise<AttackLine> {
  const since = await ctx.probe.mark();
  const env = await signedEnvelope(ctx, {
    from: "intake",
    to: "sanitization",
    template: "blog_article_intent",
    payload: articlePayload("raced"),
  });
  const [line] = await runBatch(ctx, NAME, [{
    // two names, one envelope: both renames land in the inbox together
    act: () =>
      Promise.all([
        drop(ctx, "sanitization", "intake", env.bytes, env.envelopeId),
        drop(ctx, "sanitization", "intake", env.bytes),
      ]),
    expect: replayOf(
      "two copies of one envelope raced into the inbox at once",
      env.envelopeId,
      false,
    ),
  }]);
  return await checkOnce(ctx, since, env.envelopeId, line!);
}

/** Attack 2. */
export const replay: Attack = {
  name: NAME,
  number: 2,
  summary:
    "drops a processed envelope again and races two copies of one envelope into an inbox: exactly one may be validated, the other refused (replay)",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    return [await processedThenReplayed(ctx), await raced(ctx)];
  },
};
