/**
 * What the supervisor checks about the sandboxes before it starts any agent:
 * that one can be created here as the agents' uids, and that those uids can
 * reach the home and the code they bind (`sandbox_probe.ts`).
 *
 * @module
 */
import type { HomeConfig } from "../../domain/home/config.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { type SandboxIds } from "./agent_identity.ts";
import { assertReachable, probeSandbox } from "./sandbox_probe.ts";
import type { VerifiedHome } from "./preflight.ts";

/**
 * The sandbox ids in force: the config's when the supervisor runs as root
 * (checked by preflight), none otherwise.
 */
export function sandboxIdsFor(config: Pick<HomeConfig, "sandbox_ids">): SandboxIds | undefined {
  return isRoot() ? config.sandbox_ids : undefined;
}

function isRoot(): boolean {
  return Deno.uid() === 0;
}

/**
 * Probes one sandbox (as the first agent's uid when root) and, when root, that
 * the home and every code path are reachable by other uids.
 */
export async function checkSandbox(
  home: HomeLayout,
  verified: Pick<VerifiedHome, "commands" | "sandboxHost">,
): Promise<void> {
  const first = verified.commands.values().next().value;
  const identity = first?.identity;
  if (first !== undefined && identity !== undefined) {
    await assertReachable(home.root, "the home");
    for (const bind of first.sandbox.binds) {
      if (bind.source === "code") await assertReachable(bind.path, "the code");
    }
  }
  await probeSandbox(verified.sandboxHost, identity);
}
