/**
 * Attack 3: forged and misused execution plans, delivered to text_formatter in
 * correctly signed `text_format_plan` envelopes from planner (the envelope is
 * fine; the plan inside is the attack): a plan signed by a key that is not the
 * planner's, a plan replayed in a new envelope after it already ran, a plan
 * bound to another session, and a plan whose first call is valid and whose
 * second names an unregistered tool. ToolGate must refuse each before any tool
 * runs: a `plan_rejected` event for the envelope and no `tool_executed`.
 *
 * A control plan (valid, planner-signed) runs first: it shows the path works,
 * so the refusals are the plan checks and not something broken.
 *
 * @module
 */
import { generateSeed, SigningKey } from "../../../primitives/crypto/ed25519.ts";
import type { PlanCall } from "../../../domain/toolgate/plan.ts";
import type { AttackContext } from "../context.ts";
import { drop, planText, signedEnvelope } from "../craft.ts";
import { awaitVerdicts, type Expectation } from "../expect.ts";
import { runBatch, type Try } from "../tries.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "forged-plan";
const FORMAT: PlanCall[] = [{ id: "c1", tool: "markdown_to_html", args: {} }];

interface PlanEnvelope {
  envelopeId: string;
  sessionId: string;
  bytes: Uint8Array;
}

async function planEnvelope(
  ctx: AttackContext,
  plan: string,
  ids: { envelopeId: string; sessionId: string },
): Promise<PlanEnvelope> {
  const env = await signedEnvelope(ctx, {
    from: "planner",
    to: "text_formatter",
    template: "text_format_plan",
    payload: { title: "Plan attack", markdown: "# plan attack", image_count: 0, plan },
    envelopeId: ids.envelopeId,
    sessionId: ids.sessionId,
  });
  return { envelopeId: env.envelopeId, sessionId: env.sessionId, bytes: env.bytes };
}

/**
 * `code` is the reason expected; with `anyReason` every `plan_rejected` counts
 * (the line then shows the code recorded).
 */
function planRefused(
  tried: string,
  envelopeId: string,
  code: string,
  anyReason = false,
): Expectation {
  return {
    tried,
    code,
    subject: (e) => e.agent === "text_formatter" && e.envelope_id === envelopeId,
    refusal: (e) => e.type === "plan_rejected" && (anyReason || e.reason === code),
    codeOf: (e) => e.reason ?? code,
    // the envelope itself is valid: `validated` is expected, a tool run is the breach
    breach: (e) => e.type === "tool_executed",
    where: () => "text_formatter, ToolGate (every call checked before any runs)",
  };
}

function fresh(): { envelopeId: string; sessionId: string } {
  return { envelopeId: crypto.randomUUID(), sessionId: crypto.randomUUID() };
}

/** Runs a valid plan and returns its text, or a line saying the control failed. */
async function control(ctx: AttackContext): Promise<{ plan: string } | AttackLine> {
  const ids = fresh();
  const { text } = await planText(ctx, {
    session: ids.sessionId,
    envelopeId: ids.envelopeId,
    calls: FORMAT,
  });
  const env = await planEnvelope(ctx, text, ids);
  const since = await ctx.probe.mark();
  await drop(ctx, "text_formatter", "planner", env.bytes, env.envelopeId);
  const [ran] = await awaitVerdicts([{
    tried: "a valid plan (control)",
    code: "tool_executed",
    subject: (e) => e.agent === "text_formatter" && e.envelope_id === env.envelopeId,
    refusal: (e) => e.type === "tool_executed",
    breach: () => false,
    where: () => "ran",
  }], { probe: ctx.probe, since, timeoutMs: ctx.timeoutMs });
  if (ran!.verdict !== "BLOCKED") {
    return {
      attack: NAME,
      verdict: "BREACH",
      tried: "a valid plan as the control",
      where: `the control plan did not run (${ran!.where}), so the plan checks could not be judged`,
      code: "tool_executed",
    };
  }
  return { plan: text };
}

async function tries(ctx: AttackContext, usedPlan: string): Promise<Try[]> {
  const out: Try[] = [];
  const add = async (
    tried: string,
    code: string,
    plan: string,
    ids = fresh(),
    anyReason = false,
  ) => {
    const env = await planEnvelope(ctx, plan, ids);
    out.push({
      act: () => drop(ctx, "text_formatter", "planner", env.bytes, env.envelopeId),
      expect: planRefused(tried, env.envelopeId, code, anyReason),
    });
  };
  const wrongKey = fresh();
  await add(
    "a plan signed by a key that is not the planner's",
    "bad_signature",
    (await planText(ctx, {
      session: wrongKey.sessionId,
      envelopeId: wrongKey.envelopeId,
      calls: FORMAT,
      signer: await SigningKey.fromSeed(generateSeed()),
    })).text,
    wrongKey,
  );
  await add("a plan that already ran, replayed in a new envelope", "plan_binding", usedPlan);
  const other = fresh();
  await add(
    "a plan bound to another session",
    "plan_binding",
    (await planText(ctx, {
      session: crypto.randomUUID(),
      envelopeId: other.envelopeId,
      calls: FORMAT,
    })).text,
    other,
  );
  const mixed = fresh();
  await add(
    "a plan with [a valid call, an unregistered tool]",
    "tool_not_allowed",
    (await planText(ctx, {
      session: mixed.sessionId,
      envelopeId: mixed.envelopeId,
      calls: [...FORMAT, { id: "c2", tool: "shell_exec", args: { cmd: "id" } }],
    })).text,
    mixed,
    // the whole plan is checked before any call runs; which check names it first (the
    // missing input for c2, the unregistered tool) does not matter: c1 must not run
    true,
  );
  return out;
}

/** Attack 3. */
export const forgedPlan: Attack = {
  name: NAME,
  number: 3,
  summary:
    "hands text_formatter a plan signed by the wrong key, a replayed plan, a plan bound to another session and [valid call, unregistered tool]: ToolGate must run nothing (plan_rejected)",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    const ran = await control(ctx);
    if (!("plan" in ran)) return [ran];
    return await runBatch(ctx, NAME, await tries(ctx, ran.plan));
  },
};
