/**
 * The uid, gid and groups an agent runs as (docs/design.md section 12): with a
 * supervisor running as root, each agent's own numeric ids from `config.json`
 * (`sandbox_ids.agents`) and, as supplementary groups, the group of every shared
 * folder its capset names in `fs` (`sandbox_ids.shared`). Every id must be
 * present, distinct and not root's. Without root: none (the agents share the
 * supervisor's uid, and `saoe status` says so).
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { HomeConfig } from "../../domain/home/config.ts";
import type { Capset } from "../../domain/capset/types.ts";
import type { AgentIdentity } from "./sandbox_argv.ts";
import type { SandboxHost } from "./sandbox_host.ts";

/** The verified ids of a home's sandboxes. */
export type SandboxIds = NonNullable<HomeConfig["sandbox_ids"]>;

const FIX = 'give every agent its own uid and gid in "sandbox_ids" of config.json ' +
  '(e.g. "planner": {"uid": 61001, "gid": 61001}) and each shared folder its own group, ' +
  "or re-create the home with saoe init";

function refuse(message: string, ids: { agent?: string }): SaoeError {
  return new SaoeError(
    "agent_ids_invalid",
    `Refusing to start as root: ${message}, and an agent never runs as root or as another ` +
      `agent. Fix: ${FIX}`,
    ids,
  );
}

/**
 * Checks a home's sandbox ids for `agents`: every agent has its ids, and no
 * number is used twice (uid, gid or shared group) or is 0.
 *
 * @example
 * ```ts
 * import { checkSandboxIds } from "./agent_identity.ts";
 * const ids = checkSandboxIds({ sandbox_ids: {
 *   agents: { planner: { uid: 61001, gid: 61001 } },
 *   shared: { uploads: 61002, media: 61003, output: 61004, audit: 61005 },
 * } }, ["planner"]);
 * if (ids.agents.planner?.uid !== 61001) throw new Error();
 * ```
 */
export function checkSandboxIds(
  config: Pick<HomeConfig, "sandbox_ids">,
  agents: readonly string[],
): SandboxIds {
  const ids = config.sandbox_ids;
  if (ids === undefined) refuseMissing("config.json has no sandbox_ids");
  const owner = new Map<number, string>();
  const claim = (n: number, who: string, agent?: string) => {
    const other = owner.get(n);
    // an agent's uid and gid may be the same number; nothing else may share one
    if (other !== undefined && other !== who) {
      throw refuse(
        `${who} and ${other} share the id ${n} in config.json`,
        agent !== undefined ? { agent } : {},
      );
    }
    owner.set(n, who);
  };
  for (const agent of agents) {
    const own = Object.hasOwn(ids.agents, agent) ? ids.agents[agent] : undefined;
    if (own === undefined) {
      throw refuse(`config.json gives agent "${agent}" no uid and gid`, { agent });
    }
    claim(own.uid, `agent "${agent}"`, agent);
    claim(own.gid, `agent "${agent}"`, agent);
  }
  for (const [folder, gid] of Object.entries(ids.shared)) claim(gid, `shared folder ${folder}`);
  return ids;
}

function refuseMissing(message: string): never {
  throw refuse(message, {});
}

/**
 * `{ identity }` for an agent when the supervisor is root, `{}` otherwise.
 *
 * @example
 * ```ts
 * import { agentIdentity } from "./agent_identity.ts";
 * import { DOC_SANDBOX_HOST } from "./sandbox_host.ts";
 * const ids = {
 *   agents: { viewer: { uid: 61001, gid: 61001 } },
 *   shared: { uploads: 61002, media: 61003, output: 61004, audit: 61005 },
 * };
 * const capset = { agent: "viewer", fs: { read: ["output" as const, "audit" as const], write: [] } };
 * const root = { ...DOC_SANDBOX_HOST, uid: 0 };
 * const { identity } = agentIdentity({ sandbox_ids: ids }, capset, root);
 * if (identity?.uid !== 61001 || identity.groups.join() !== "61004,61005") throw new Error();
 * if (agentIdentity({ sandbox_ids: ids }, capset, DOC_SANDBOX_HOST).identity) throw new Error();
 * ```
 */
export function agentIdentity(
  config: Pick<HomeConfig, "sandbox_ids">,
  capset: Pick<Capset, "agent" | "fs">,
  host: Pick<SandboxHost, "uid">,
): { identity?: AgentIdentity } {
  if (host.uid !== 0) return {};
  const ids = checkSandboxIds(config, [capset.agent]);
  const own = ids.agents[capset.agent]!;
  const roots = [...new Set([...capset.fs.read, ...capset.fs.write])].sort();
  const groups = roots.map((root) => ids.shared[root]).sort((a, b) => a - b);
  return { identity: { uid: own.uid, gid: own.gid, groups } };
}
