/**
 * The pure decision of ToolGate: is every call of a plan allowed? Each call must
 * name a tool granted by the agent's capability set and listed in the signed tool
 * manifest, with args valid against the manifest's JSON Schema and within the
 * capset's `allowed_args`. The whole plan is checked before any call runs, so a
 * plan that smuggles one forbidden call next to valid ones runs nothing.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { ArgConstraint, Capset } from "../capset/types.ts";
import type { JsonValue } from "../../primitives/json/strict_parse.ts";
import type { SchemaCache } from "../validate/schema_cache.ts";
import type { ToolEntry, ToolManifest } from "./manifest.ts";
import type { Plan, PlanCall } from "./plan.ts";

/** A call that passed every check, with the manifest entry it will run. */
export interface CheckedCall {
  call: PlanCall;
  entry: ToolEntry;
}

/** Options for {@linkcode checkCalls}. */
export interface CheckCallsOptions {
  plan: Plan;
  capset: Capset;
  manifest: ToolManifest;
  /** Compiled argument schemas, keyed by tool name. */
  schemas: SchemaCache;
}

/**
 * Checks one argument value against its capset constraint; returns the problem or
 * `undefined`. Every constraint present must hold.
 *
 * @example
 * ```ts
 * import { argProblem } from "./checks.ts";
 * if (argProblem(2000, { max: 1024 }) === undefined) throw new Error();
 * if (argProblem("png", { enum: ["png", "jpeg"] }) !== undefined) throw new Error();
 * ```
 */
export function argProblem(value: JsonValue, constraint: ArgConstraint): string | undefined {
  if (constraint.enum !== undefined) {
    if (typeof value !== "string" || !constraint.enum.includes(value)) {
      return `must be one of ${constraint.enum.join(", ")}`;
    }
  }
  if (constraint.min !== undefined || constraint.max !== undefined) {
    if (typeof value !== "number" || !Number.isFinite(value)) return "must be a number";
    if (constraint.min !== undefined && value < constraint.min) {
      return `must be at least ${constraint.min}`;
    }
    if (constraint.max !== undefined && value > constraint.max) {
      return `must be at most ${constraint.max}`;
    }
  }
  if (constraint.max_length !== undefined) {
    if (typeof value !== "string" && !Array.isArray(value)) {
      return "must be a string or an array";
    }
    if (value.length > constraint.max_length) {
      return `must have a length of at most ${constraint.max_length}`;
    }
  }
  return undefined;
}

/**
 * Checks every call of a plan; throws on the first refused call
 * (`forbidden_grant` for a tool or argument the capset or manifest does not
 * grant, `schema` for args the tool's schema refuses). Returns the checked calls.
 */
export function checkCalls(options: CheckCallsOptions): CheckedCall[] {
  const { plan, capset, manifest, schemas } = options;
  const ids = { agent: capset.agent, session_id: plan.session_id, envelope_id: plan.envelope_id };
  const checked: CheckedCall[] = [];
  for (const call of plan.calls) {
    const what = `call ${call.id} of plan ${plan.plan_id}`;
    const grant = capset.tools.find((t) => t.name === call.tool);
    if (grant === undefined) {
      throw new SaoeError(
        "tool_not_allowed",
        `Cannot run ${what}: tool ${call.tool} is not granted to ${capset.agent} by its capability set`,
        ids,
      );
    }
    const entry = manifest.tools.find((t) => t.name === call.tool);
    if (entry === undefined) {
      throw new SaoeError(
        "tool_not_allowed",
        `Cannot run ${what}: tool ${call.tool} is not in the signed tool manifest`,
        ids,
      );
    }
    try {
      schemas.check({
        schema: entry.args_schema,
        key: `${entry.name}:${entry.sha256}`,
        payload: call.args,
        what: `args of ${what}`,
      });
    } catch (err: unknown) {
      if (err instanceof SaoeError) throw err.withIds(ids);
      throw err;
    }
    for (const [name, value] of Object.entries(call.args)) {
      // an argument the capset does not mention is not granted: fail closed
      if (!Object.hasOwn(grant.allowed_args, name)) {
        throw new SaoeError(
          "tool_not_allowed",
          `Cannot run ${what}: argument ${name} of tool ${call.tool} is not in allowed_args`,
          ids,
        );
      }
      const problem = argProblem(value, grant.allowed_args[name]!);
      if (problem !== undefined) {
        throw new SaoeError(
          "tool_not_allowed",
          `Cannot run ${what}: argument ${name} of tool ${call.tool} ${problem}`,
          ids,
        );
      }
    }
    checked.push({ call, entry });
  }
  return checked;
}
