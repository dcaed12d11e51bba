/**
 * The folders agents need but cannot create themselves: an agent may write only
 * its own subfolder of a peer's inbox and its own state folder, never their
 * parents, so the supervisor creates every inbox edge named by the verified
 * capability sets and each agent's quarantine, dead-letter, store and retry
 * folders, all mode 0700.
 *
 * @module
 */
import type { Capset } from "../../domain/capset/types.ts";
import { agentSubdir, type HomeLayout, inboxDir, inboxFromDir } from "../../domain/home/layout.ts";

const AGENT_SUBDIRS = ["quarantine", "dead", "store", "retry"] as const;

/**
 * Every folder the agents of `capsets` need, parents first, without duplicates.
 *
 * @example
 * ```ts
 * import { requiredFolders } from "./folders.ts";
 * import { homeLayout } from "../../domain/home/layout.ts";
 * const folders = requiredFolders(homeLayout("/srv/saoe"), [{
 *   agent: "planner",
 *   receives: [{ from: "sanitization", templates: [] }],
 *   sends: [],
 * }]);
 * if (!folders.includes("/srv/saoe/agents/planner/inbox/sanitization")) throw new Error();
 * ```
 */
export function requiredFolders(
  home: HomeLayout,
  capsets: Iterable<Pick<Capset, "agent" | "receives" | "sends">>,
): string[] {
  const out = new Set<string>([home.agents, home.uploads, home.media, home.output]);
  for (const capset of capsets) {
    out.add(inboxDir(home, capset.agent));
    for (const r of capset.receives) out.add(inboxFromDir(home, capset.agent, r.from));
    for (const s of capset.sends) {
      out.add(inboxDir(home, s.to));
      out.add(inboxFromDir(home, s.to, capset.agent));
    }
    for (const sub of AGENT_SUBDIRS) out.add(agentSubdir(home, capset.agent, sub));
  }
  return [...out];
}

/**
 * Creates the folders of {@linkcode requiredFolders} (mode 0700); returns them.
 *
 * @example
 * ```ts
 * import { createAgentFolders } from "./folders.ts";
 * import { homeLayout } from "../../domain/home/layout.ts";
 * const root = await Deno.makeTempDir();
 * await createAgentFolders(homeLayout(root), [{ agent: "planner", receives: [], sends: [] }]);
 * if (!(await Deno.stat(`${root}/agents/planner/dead`)).isDirectory) throw new Error();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function createAgentFolders(
  home: HomeLayout,
  capsets: Iterable<Pick<Capset, "agent" | "receives" | "sends">>,
): Promise<string[]> {
  const folders = requiredFolders(home, capsets);
  for (const folder of folders) await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
  return folders;
}
