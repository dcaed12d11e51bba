/**
 * The witnesses of a home that run on this machine (config entries with a
 * `state` directory): the supervisor starts each as its own `saoe witness
 * serve` process on a port the system assigns before it checks the ledger, and
 * stops them after the last checkpoint was offered at shutdown. Each also stops
 * by itself when the supervisor dies (its stdin closes).
 *
 * @module
 */
import { type LocalWitness, startLocalWitness } from "../witness/local_witness.ts";
import type { ConfiguredWitness, HomeWitnessPolicy } from "../witness/policy.ts";

/** The local witnesses started, and the policy with their real URLs. */
export interface LocalWitnesses {
  policy: HomeWitnessPolicy;
  started: LocalWitness[];
  stop(): Promise<void>;
}

/** Starts every local witness of `policy`. */
export async function startLocalWitnesses(
  policy: HomeWitnessPolicy,
  repo: string,
  log: (line: string) => void,
): Promise<LocalWitnesses> {
  const started: LocalWitness[] = [];
  const stop = async () => {
    await Promise.all(started.map((w) => w.stop()));
  };
  const witnesses: ConfiguredWitness[] = [];
  try {
    for (const w of policy.witnesses) {
      if (w.state === undefined) {
        witnesses.push(w);
        continue;
      }
      const local = await startLocalWitness({ state: w.state, repo, log });
      started.push(local);
      log(
        `supervisor: local witness ${local.name} (state ${w.state}) listening on ${local.url} (pid ${local.pid})`,
      );
      witnesses.push({ ...w, url: local.url });
    }
  } catch (err: unknown) {
    await stop();
    throw err;
  }
  return { policy: { ...policy, witnesses }, started, stop };
}
