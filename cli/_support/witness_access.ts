/**
 * Reaching a home's witnesses from an operator command: a remote one at its
 * configured URL; a local one (config `state`) at the address the running
 * supervisor reports in `audit/status.json`, or, when no pipeline runs, started
 * for the duration of the command on a port the system assigns.
 *
 * @module
 */
import type { HomeConfig } from "../../core/domain/home/config.ts";
import type { HomeLayout } from "../../core/domain/home/layout.ts";
import { readSupervisorStatus } from "../../core/services/supervisor/status.ts";
import { startLocalWitnesses } from "../../core/services/supervisor/local_witnesses.ts";
import { type HomeWitnessPolicy, witnessPolicy } from "../../core/services/witness/policy.ts";
import { pipelineRunning } from "./pipeline_probe.ts";
import { repoRoot } from "./repo.ts";

/** The policy with reachable URLs, and how to let go of what was started. */
export interface ReachableWitnesses extends AsyncDisposable {
  policy: HomeWitnessPolicy;
}

/** Resolves (and if need be starts) the home's witnesses. */
export async function reachWitnesses(
  home: HomeLayout,
  config: HomeConfig,
  log: (line: string) => void,
): Promise<ReachableWitnesses> {
  const policy = witnessPolicy(config);
  if (await pipelineRunning(home)) {
    const status = await readSupervisorStatus(home).catch(() => undefined);
    const urls = new Map((status?.witnesses ?? []).map((w) => [w.name, w.url]));
    return {
      policy: {
        ...policy,
        witnesses: policy.witnesses.map((w) => ({ ...w, url: urls.get(w.name) ?? w.url })),
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  }
  const locals = await startLocalWitnesses(policy, repoRoot(), log);
  return { policy: locals.policy, [Symbol.asyncDispose]: () => locals.stop() };
}
