/**
 * The fuzz engine: for each iteration, a generator seeded from (run seed,
 * iteration) picks a target, one of its valid seeds and a mutation, runs the
 * target's real verifier on the result and judges the outcome. Findings:
 *
 * - `crash`: the verifier threw something that is not a `SaoeError` (a
 *   TypeError or RangeError from inside a verifier is a bug, not a refusal)
 * - `no_reason_code`: a `SaoeError` whose code is not one of `core/primitives/errors.ts`,
 *   or without a message
 * - `accepted_mutation`: an input that kept the seed's signatures was accepted
 *   with a payload (or a decoded result) other than a seed's
 * - `slow`: one verification took longer than the slow limit
 * - `unhandled_rejection`: a promise rejected with nobody listening
 *
 * Iteration `i` of seed `s` is a pure function of `(s, i)`, so a finding's seed
 * and iteration reproduce it alone.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { OTHER_CODES, SaoeError, VALIDATION_CODES } from "../../primitives/errors.ts";
import { parseDsse } from "../../primitives/dsse/parse.ts";
import { iterationSeed, Prng } from "./prng.ts";
import { mutate } from "./mutations.ts";
import type { FuzzTarget } from "./target.ts";

const REASON_CODES: ReadonlySet<string> = new Set([...VALIDATION_CODES, ...OTHER_CODES]);

/** Default limit for one verification before it counts as a finding. */
export const DEFAULT_SLOW_MS = 5_000;

/** What went wrong with one input. */
export type Problem =
  | "crash"
  | "no_reason_code"
  | "accepted_mutation"
  | "slow"
  | "unhandled_rejection";

/** The verdict on one input. */
export interface Outcome {
  accepted: boolean;
  /** The reason code of a refusal. */
  code?: string;
  problem?: Problem;
  /** What the verifier threw or why the acceptance is wrong. */
  error?: string;
  ms: number;
}

/** A failing input with everything needed to reproduce it. */
export interface Finding {
  kind: string;
  seed: number;
  iteration: number;
  mutation: string;
  problem: Problem;
  error: string;
  input: Uint8Array;
}

/** What a seed verified to: the reference an accepted mutation must equal. */
interface Baseline {
  payloadType: string;
  payload: Uint8Array;
  summary: unknown;
}

/** A target with the verified baselines of its seeds. */
export interface PreparedTarget {
  target: FuzzTarget;
  baselines: Baseline[];
}

/**
 * Verifies every seed of every target (a refused seed would make the run
 * vacuous: it throws) and records what each verified to.
 */
export async function prepare(targets: readonly FuzzTarget[]): Promise<PreparedTarget[]> {
  const out: PreparedTarget[] = [];
  for (const target of targets) {
    const baselines: Baseline[] = [];
    for (const [i, seed] of target.seeds.entries()) {
      let summary: unknown;
      try {
        summary = await target.verify(seed);
      } catch (err: unknown) {
        throw new Error(`Fuzz seed ${i} of ${target.kind} does not verify: ${describe(err)}`, {
          cause: err,
        });
      }
      const env = parseDsse(seed, Number.MAX_SAFE_INTEGER);
      baselines.push({ payloadType: env.payloadType, payload: env.payload, summary });
    }
    out.push({ target, baselines });
  }
  return out;
}

function describe(err: unknown): string {
  if (err instanceof SaoeError) return `${err.name} ${err.code}: ${err.message}`;
  if (err instanceof Error) {
    const frames = (err.stack ?? "").split("\n").slice(1, 4).map((l) => l.trim()).join(" | ");
    return `${err.name}: ${err.message}${frames === "" ? "" : ` (${frames})`}`;
  }
  return `non-error thrown: ${String(err)}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

/** Why an accepted input is not one of the seeds, or `undefined` when it is. */
function acceptedDifference(
  prepared: PreparedTarget,
  input: Uint8Array,
  summary: unknown,
): string | undefined {
  let env;
  try {
    env = parseDsse(input, Number.MAX_SAFE_INTEGER);
  } catch (err: unknown) {
    return `accepted input that is not a strict DSSE document (${describe(err)})`;
  }
  const match = prepared.baselines.find((b) =>
    b.payloadType === env.payloadType && sameBytes(b.payload, env.payload)
  );
  if (match === undefined) return "accepted a payload that differs from every seed's";
  if (!isDeepStrictEqual(summary, match.summary)) {
    return "accepted the seed's payload bytes but decoded them to a different result";
  }
  return undefined;
}

/**
 * Runs one input through a target's verifier and judges it. `resigned` inputs
 * were signed by the rightful key, so they may be accepted with any payload.
 */
export async function judge(
  prepared: PreparedTarget,
  input: Uint8Array,
  options: { resigned: boolean; slowMs?: number },
): Promise<Outcome> {
  const started = performance.now();
  let summary: unknown;
  let outcome: Outcome;
  try {
    summary = await prepared.target.verify(input);
    const ms = performance.now() - started;
    const difference = options.resigned ? undefined : acceptedDifference(prepared, input, summary);
    outcome = difference === undefined
      ? { accepted: true, ms }
      : { accepted: true, ms, problem: "accepted_mutation", error: difference };
  } catch (err: unknown) {
    const ms = performance.now() - started;
    if (!(err instanceof SaoeError)) {
      outcome = { accepted: false, ms, problem: "crash", error: describe(err) };
    } else if (!REASON_CODES.has(err.code) || err.message === "") {
      outcome = {
        accepted: false,
        ms,
        code: String(err.code),
        problem: "no_reason_code",
        error: describe(err),
      };
    } else {
      outcome = { accepted: false, ms, code: err.code };
    }
  }
  const slowMs = options.slowMs ?? DEFAULT_SLOW_MS;
  if (outcome.problem === undefined && outcome.ms > slowMs) {
    return { ...outcome, problem: "slow", error: `took ${Math.round(outcome.ms)} ms` };
  }
  return outcome;
}

/** One generated input. */
export interface GeneratedInput {
  prepared: PreparedTarget;
  mutation: string;
  input: Uint8Array;
  resigned: boolean;
}

/** Builds the input of iteration `iteration` of a run seeded `seed`. */
export async function generate(
  targets: readonly PreparedTarget[],
  seed: number,
  iteration: number,
): Promise<GeneratedInput> {
  const rng = new Prng(iterationSeed(seed, iteration));
  const prepared = rng.pick(targets);
  const seedBytes = rng.pick(prepared.target.seeds);
  const others = targets.flatMap((t) => t.target.seeds);
  const mutated = mutate({ seed: seedBytes, others, maxBytes: prepared.target.maxBytes, rng });
  if (mutated.resignPayload !== undefined) {
    const payload = new Uint8Array(mutated.resignPayload);
    return {
      prepared,
      mutation: mutated.name,
      input: await prepared.target.resign(payload),
      resigned: true,
    };
  }
  return { prepared, mutation: mutated.name, input: mutated.bytes, resigned: false };
}

/** Options for {@linkcode runFuzz}. */
export interface RunFuzzOptions {
  targets: readonly PreparedTarget[];
  seed: number;
  /** Iterations to run (starting at `firstIteration`, default 0). */
  iterations: number;
  firstIteration?: number;
  /** Stop early at this `performance.now()` time. */
  deadline?: number;
  slowMs?: number;
  /** Called for each finding as it happens. */
  onFinding?: (finding: Finding) => Promise<void> | void;
  /** Called every `progressEvery` iterations. */
  onProgress?: (stats: RunStats) => void;
  progressEvery?: number;
}

/** Counters of a run. */
export interface RunStats {
  seed: number;
  iterations: number;
  accepted: number;
  refused: number;
  /** Refusals per reason code. */
  codes: Record<string, number>;
  /** Inputs per target kind. */
  kinds: Record<string, number>;
  findings: Finding[];
}

/**
 * Runs the fuzz loop. Never throws for what a verifier does: everything is a
 * finding in the returned stats.
 */
export async function runFuzz(options: RunFuzzOptions): Promise<RunStats> {
  const stats: RunStats = {
    seed: options.seed,
    iterations: 0,
    accepted: 0,
    refused: 0,
    codes: {},
    kinds: {},
    findings: [],
  };
  let current: { kind: string; iteration: number; mutation: string; input: Uint8Array } = {
    kind: "",
    iteration: -1,
    mutation: "",
    input: new Uint8Array(),
  };
  const unhandled: Finding[] = [];
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    unhandled.push({
      ...current,
      seed: options.seed,
      problem: "unhandled_rejection",
      error: describe(event.reason),
    });
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  const record = async (finding: Finding) => {
    stats.findings.push(finding);
    await options.onFinding?.(finding);
  };
  try {
    const first = options.firstIteration ?? 0;
    for (let i = first; i < first + options.iterations; i++) {
      if (options.deadline !== undefined && performance.now() > options.deadline) break;
      const generated = await generate(options.targets, options.seed, i);
      const kind = generated.prepared.target.kind;
      current = { kind, iteration: i, mutation: generated.mutation, input: generated.input };
      const outcome = await judge(generated.prepared, generated.input, {
        resigned: generated.resigned,
        ...(options.slowMs === undefined ? {} : { slowMs: options.slowMs }),
      });
      stats.iterations++;
      stats.kinds[kind] = (stats.kinds[kind] ?? 0) + 1;
      if (outcome.accepted) stats.accepted++;
      else {
        stats.refused++;
        const code = outcome.code ?? "(none)";
        stats.codes[code] = (stats.codes[code] ?? 0) + 1;
      }
      if (outcome.problem !== undefined) {
        await record({
          kind,
          seed: options.seed,
          iteration: i,
          mutation: generated.mutation,
          problem: outcome.problem,
          error: outcome.error ?? "",
          input: generated.input,
        });
      }
      while (unhandled.length > 0) await record(unhandled.shift()!);
      const every = options.progressEvery ?? 0;
      if (every > 0 && stats.iterations % every === 0) options.onProgress?.(stats);
    }
    // a rejection noticed only after the loop still belongs to this run
    await new Promise((resolve) => setTimeout(resolve, 0));
    while (unhandled.length > 0) await record(unhandled.shift()!);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  return stats;
}

/** A one-line, reproducible description of a finding. */
export function formatFinding(f: Finding): string {
  return `${f.problem} in ${f.kind}: seed ${f.seed}, iteration ${f.iteration}, mutation ${f.mutation}: ${f.error}`;
}
