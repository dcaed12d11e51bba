/**
 * ToolGate: the only way an agent runs a tool. `execute` verifies the planner's
 * signed plan, binds it to the triggering envelope and session, checks every call
 * before running any (capset grant, signed manifest, args schema, `allowed_args`),
 * checks each tool module's SHA-256 against the signed manifest, claims the plan
 * id at most once, and only then runs each call in a Worker with no permissions
 * and a time limit. It trusts the verified capset and manifest it is given, the
 * planner keys it is given, and nothing in the plan beyond its signature.
 *
 * @module
 */
import { type ReasonCode, SaoeError } from "../../primitives/errors.ts";
import { constantTimeEqual, fromHex, sha256 } from "../../primitives/crypto/bytes.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import type { Capset } from "../capset/types.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { SchemaCache } from "../validate/schema_cache.ts";
import { checkCalls, type CheckedCall } from "./checks.ts";
import type { ToolManifest } from "./manifest.ts";
import { readToolModule } from "./module_file.ts";
import { type Plan, verifyPlan } from "./plan.ts";
import type { ToolOutput } from "./protocol.ts";
import { ToolTimeoutError, type ToolWorkerPool, toolWorkerPool } from "./run_worker.ts";

/**
 * At-most-once claim of plan ids; `claim` must be atomic and permanent. A store
 * may let a claim interrupted by a crash be taken again (the plan is bound to one
 * envelope, whose own replay protection decides whether it may run again); it is
 * told with `finish` once the plan's tools all ran, after which it never may.
 */
export interface UsedPlans {
  /** Returns true the first time `planId` is claimed, false ever after. */
  claim(planId: string): Promise<boolean>;
  /** Records that every call of the plan ran (optional). */
  finish?(planId: string): Promise<void>;
}

/** Audit events ToolGate reports. */
export type ToolGateEvent =
  | {
    type: "tool_executed";
    agent: string;
    session_id: string;
    envelope_id: string;
    tool: string;
    plan_id: string;
    call_id: string;
  }
  | {
    type: "plan_rejected";
    reason: ReasonCode;
    message: string;
    agent: string;
    session_id: string;
    envelope_id: string;
    plan_id?: string;
  };

/** Options for {@linkcode createToolGate}. */
export interface ToolGateOptions {
  /** The executing agent (must be the capset's agent). */
  agent: string;
  /** The agent's verified capability set. */
  capset: Capset;
  /** The verified, dispatcher-signed tool manifest. */
  manifest: ToolManifest;
  /** Repository root the manifest's module paths are relative to. */
  repoRoot: string;
  /** The planner's current public keys. */
  plannerKeys: TrustedKeySet;
  clock: Clock;
  skewMs: number;
  usedPlans: UsedPlans;
  /** Receives audit events; awaited. */
  onEvent(event: ToolGateEvent): void | Promise<void>;
  /** The pool tools run in; default the process-wide one ({@linkcode toolWorkerPool}). */
  pool?: ToolWorkerPool;
}

/** Input of {@linkcode ToolGate.execute}. */
export interface ExecuteRequest {
  /** The signed plan (DSSE bytes). */
  planBytes: Uint8Array;
  /** The envelope that triggered this execution. */
  envelopeId: string;
  sessionId: string;
  /** Input bytes for each call id of the plan (exactly one per call). */
  inputs: ReadonlyMap<string, Uint8Array>;
}

/** What a plan's execution produced. */
export interface ExecuteResult {
  plan_id: string;
  /** Output of each call, by call id, in plan order. */
  outputs: Map<string, ToolOutput>;
}

/** A tool gate bound to one agent, capset and manifest. */
export interface ToolGate {
  /** Verifies, checks and runs a plan; throws a {@linkcode SaoeError} on any refusal. */
  execute(request: ExecuteRequest): Promise<ExecuteResult>;
  /**
   * True once a tool has timed out: the gate then refuses every plan, and the
   * agent should exit so the supervisor restarts it (a timed-out worker thread
   * cannot be stopped from inside the process).
   */
  readonly stopped: boolean;
  /**
   * Hash-checks the module of every tool the capset grants against the signed
   * manifest and pre-starts its warm worker, so the first call is not cold.
   */
  prewarm(): Promise<void>;
}

interface Prepared {
  plan: Plan;
  calls: CheckedCall[];
  modules: Map<string, Uint8Array<ArrayBuffer>>;
}

/**
 * Creates a ToolGate. Refuses (`forbidden_grant`) a capset that belongs to
 * another agent.
 */
export function createToolGate(options: ToolGateOptions): ToolGate {
  if (options.capset.agent !== options.agent) {
    throw new SaoeError(
      "forbidden_grant",
      `Cannot create tool gate for ${options.agent}: the capability set is ${options.capset.agent}'s`,
      { agent: options.agent },
    );
  }
  const schemas = new SchemaCache();
  // looked up at each use: closeToolWorkers() replaces the process-wide pool
  const pool = (): ToolWorkerPool => options.pool ?? toolWorkerPool();
  // set when a tool timed out: its thread may still be running (see ToolTimeoutError)
  let stopped = false;

  async function loadModules(calls: CheckedCall[]): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
    const modules = new Map<string, Uint8Array<ArrayBuffer>>();
    for (const { entry } of calls) {
      if (modules.has(entry.name)) continue;
      const bytes = await readToolModule(options.repoRoot, entry.module);
      // a tool changed after the manifest was signed is refused before it is loaded;
      // the worker gets these very bytes, so a later change on disk cannot slip in
      if (!constantTimeEqual(await sha256(bytes), fromHex(entry.sha256, "tool digest"))) {
        throw new SaoeError(
          "tool_hash_mismatch",
          `Cannot load tool ${entry.name}: module ${entry.module} does not match the SHA-256 in the signed tool manifest`,
          { agent: options.agent },
        );
      }
      modules.set(entry.name, bytes);
    }
    return modules;
  }

  async function prepare(request: ExecuteRequest, seen: { planId?: string }): Promise<Prepared> {
    if (stopped) {
      throw new SaoeError(
        "handler_error",
        `Cannot run tools for ${options.agent}: an earlier tool timed out and may still be running; restart the agent`,
      );
    }
    const plan = await verifyPlan(request.planBytes, {
      planner: options.plannerKeys,
      clock: options.clock,
      skewMs: options.skewMs,
    });
    seen.planId = plan.plan_id;
    // a valid plan for another envelope or session must not be re-used here
    if (plan.session_id !== request.sessionId || plan.envelope_id !== request.envelopeId) {
      throw new SaoeError(
        "plan_binding",
        `Cannot run plan ${plan.plan_id}: it is bound to session ${plan.session_id} and envelope ${plan.envelope_id}, not to session ${request.sessionId} and envelope ${request.envelopeId}`,
      );
    }
    const callIds = new Set(plan.calls.map((c) => c.id));
    for (const id of callIds) {
      if (!request.inputs.has(id)) {
        throw new SaoeError(
          "parse_error",
          `Cannot run plan ${plan.plan_id}: no input for call ${id}`,
        );
      }
    }
    for (const id of request.inputs.keys()) {
      if (!callIds.has(id)) {
        throw new SaoeError(
          "parse_error",
          `Cannot run plan ${plan.plan_id}: input ${JSON.stringify(id.slice(0, 64))} names no call`,
        );
      }
    }
    const calls = checkCalls({ plan, capset: options.capset, manifest: options.manifest, schemas });
    const modules = await loadModules(calls);
    if (!await options.usedPlans.claim(plan.plan_id)) {
      throw new SaoeError("replay", `Cannot run plan ${plan.plan_id}: it was already executed`);
    }
    return { plan, calls, modules };
  }

  async function reject(err: unknown, request: ExecuteRequest, planId?: string): Promise<never> {
    const base = {
      agent: options.agent,
      session_id: request.sessionId,
      envelope_id: request.envelopeId,
    };
    const refusal = err instanceof SaoeError
      ? err.withIds(base)
      : new SaoeError("handler_error", "Tool gate failed unexpectedly", base, { cause: err });
    await options.onEvent({
      type: "plan_rejected",
      reason: refusal.code,
      message: refusal.message,
      ...base,
      ...(planId === undefined ? {} : { plan_id: planId }),
    });
    throw refusal;
  }

  async function execute(request: ExecuteRequest): Promise<ExecuteResult> {
    let prepared: Prepared;
    const seen: { planId?: string } = {};
    try {
      prepared = await prepare(request, seen);
    } catch (err: unknown) {
      return await reject(err, request, seen.planId);
    }
    const { plan, calls, modules } = prepared;
    const outputs = new Map<string, ToolOutput>();
    for (const { call, entry } of calls) {
      let output: ToolOutput;
      try {
        output = await pool().run({
          tool: entry.name,
          module: modules.get(entry.name)!,
          args: call.args,
          input: request.inputs.get(call.id)!,
          timeoutMs: entry.timeout_ms,
        });
      } catch (err: unknown) {
        if (err instanceof ToolTimeoutError) stopped = true;
        return await reject(err, request, plan.plan_id);
      }
      outputs.set(call.id, output);
      await options.onEvent({
        type: "tool_executed",
        agent: options.agent,
        session_id: plan.session_id,
        envelope_id: plan.envelope_id,
        tool: entry.name,
        plan_id: plan.plan_id,
        call_id: call.id,
      });
    }
    await options.usedPlans.finish?.(plan.plan_id);
    return { plan_id: plan.plan_id, outputs };
  }

  async function prewarm(): Promise<void> {
    const entries = options.capset.tools
      .map((t) => options.manifest.tools.find((e) => e.name === t.name))
      .filter((e) => e !== undefined);
    // hashed against the signed manifest first, exactly as before a call
    const modules = await loadModules(entries.map((entry) => ({ entry }) as CheckedCall));
    for (const [name, bytes] of modules) await pool().prestart(name, bytes);
  }

  return {
    execute,
    prewarm,
    get stopped(): boolean {
      return stopped;
    },
  };
}
