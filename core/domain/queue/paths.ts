/**
 * The folders one agent's queue uses, built from the home layout: its inbox
 * `agents/<me>/inbox/`, and under `agents/<me>/` its `quarantine/`, `dead/` and `retry/`.
 * `retry/` holds entries the operator re-queued whose envelope id this agent had
 * already claimed (see `dead_letter.ts`); only the agent and the CLI write it.
 *
 * @module
 */
import { agentSubdir, type HomeLayout, inboxDir } from "../home/layout.ts";

/** The queue folders of one agent. */
export interface QueuePaths {
  inbox: string;
  quarantine: string;
  dead: string;
  retry: string;
}

/**
 * Returns the queue folders of `agent` (an agent id, checked).
 *
 * @example
 * ```ts
 * import { queuePaths } from "./paths.ts";
 * import { homeLayout } from "../home/layout.ts";
 * const paths = queuePaths(homeLayout("/srv/saoe"), "planner");
 * if (paths.retry !== "/srv/saoe/agents/planner/retry") throw new Error();
 * ```
 */
export function queuePaths(home: HomeLayout, agent: string): QueuePaths {
  return {
    inbox: inboxDir(home, agent),
    quarantine: agentSubdir(home, agent, "quarantine"),
    dead: agentSubdir(home, agent, "dead"),
    retry: agentSubdir(home, agent, "retry"),
  };
}
