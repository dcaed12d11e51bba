/**
 * The ToolGate of an agent whose capability set names tools: the signed tool
 * manifest verified against the trust root, the planner's keys from the
 * directory, plan claims in the agent's own store, tool events reported as
 * signed audit events, and the manifest's expiry guarded while the agent runs.
 *
 * Plan claims close with their envelope, not when the tools return: a crash
 * between the tool calls and the send must not leave a plan that ran but whose
 * result was never delivered and cannot run again. The plan is bound to its one
 * envelope, whose replay claim keeps every other copy out.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { Capset } from "../../domain/capset/types.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { createToolGate, type ToolGate } from "../../domain/toolgate/gate.ts";
import { verifyToolManifest } from "../../domain/toolgate/manifest.ts";
import { SqliteReplayStore } from "../../domain/validate/replay_store.ts";
import { toolManifestPath } from "../../domain/vault/layout.ts";
import type { AgentTrust } from "./agent_trust.ts";
import type { EventSink } from "./event_sink.ts";
import { guardToolManifestExpiry } from "./expiry_guards.ts";

/** Plans claimed while the current envelope is handled, settled with it. */
export interface PlanClaims {
  /** Closes the plans claimed since the last settle: for good when `done`, resumable when `failed`. */
  settle(outcome: "done" | "failed"): Promise<void>;
}

/** Plan claims of an agent that runs no tools. */
export const NO_PLAN_CLAIMS: PlanClaims = { settle: () => Promise.resolve() };

/** Options for {@linkcode openAgentToolGate}. */
export interface AgentToolGateOptions {
  agent: string;
  home: HomeLayout;
  /** Absolute repository root (the tool modules). */
  repo: string;
  capset: Capset;
  trust: AgentTrust;
  /** `agents/<me>/store/`, where `plans.db` lives. */
  storeDir: string;
  sink: EventSink;
  clock: Clock;
  skewMs: number;
}

/** Builds the ToolGate and the plan claims it settles with each envelope. */
export async function openAgentToolGate(
  options: AgentToolGateOptions,
): Promise<{ toolgate: ToolGate; planClaims: PlanClaims }> {
  const { clock, skewMs, sink, trust } = options;
  const manifest = await verifyToolManifest(
    await Deno.readFile(toolManifestPath(options.home.vault)),
    { dispatcher: trust.root.trusted, clock, skewMs },
  );
  const planner = trust.directory.senderKeys("planner", clock.now());
  if (planner.status !== "ok") {
    throw new SaoeError("unknown_sender", "Cannot start ToolGate: the planner has no valid key");
  }
  const usedPlans = SqliteReplayStore.open(join(options.storeDir, "plans.db"), {
    synchronous: "normal",
  });
  const pending: string[] = [];
  const planClaims: PlanClaims = {
    async settle(outcome) {
      const ids = pending.splice(0);
      // a failed envelope leaves its plans resumable: an operator retry re-opens the
      // envelope's claim, and its plan may then run again (for that envelope only)
      if (outcome === "done") { for (const id of ids) await usedPlans.finish(id, "done"); }
    },
  };
  const gate = createToolGate({
    agent: options.agent,
    capset: options.capset,
    manifest,
    repoRoot: options.repo,
    plannerKeys: { name: "planner", keys: planner.current, threshold: 1 },
    clock,
    skewMs,
    // a plan interrupted by a crash may run again for its own (resumed) envelope
    usedPlans: {
      claim: async (id: string) => {
        const claimed = (await usedPlans.claimOrResume(id)) !== "refused";
        if (claimed) pending.push(id);
        return claimed;
      },
    },
    onEvent: (e) =>
      e.type === "tool_executed"
        ? sink.emit({
          type: "tool_executed",
          session_id: e.session_id,
          envelope_id: e.envelope_id,
          detail: { tool: e.tool, plan_id: e.plan_id, call_id: e.call_id },
        })
        : sink.emit({
          type: "plan_rejected",
          session_id: e.session_id,
          envelope_id: e.envelope_id,
          reason: e.reason,
          detail: { message: e.message, ...(e.plan_id ? { plan_id: e.plan_id } : {}) },
        }),
  });
  const toolgate = guardToolManifestExpiry(gate, {
    manifest: { what: `tool manifest v${manifest.version}`, expires_at: manifest.expires_at },
    clock,
    skewMs,
    onRefused: (err, request) =>
      sink.emit({
        type: "plan_rejected",
        session_id: request.sessionId,
        envelope_id: request.envelopeId,
        reason: err.code,
        detail: { message: err.message.slice(0, 500) },
      }),
  });
  return { toolgate, planClaims };
}
