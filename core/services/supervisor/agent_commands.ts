/**
 * The supervisor's own verification and command derivation, for `saoe capset
 * explain` and the generated permission table: `preflight()` from
 * `core/services/supervisor/preflight.ts` (trust root from the pin, directory, every
 * capset decrypted with the supervisor's age identity and verified, the tool
 * manifest, each agent's command from `agentCommand()`), run on the home and
 * repository paths resolved the way the supervisor resolves them, with the
 * supervisor's version store read but never raised.
 *
 * @module
 */
import type { HomeConfig } from "../../domain/home/config.ts";
import { type HomeLayout, homeLayout } from "../../domain/home/layout.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { openKeyStore } from "../../domain/keys/keystore.ts";
import { preflight, type VerifiedHome } from "./preflight.ts";
import type { ToolManifest } from "../../domain/toolgate/manifest.ts";
import type { Capset } from "../../domain/capset/types.ts";
import { type AgentCommand, agentCommand } from "./agent_command.ts";
import { SUPERVISOR_ID } from "../../domain/home/layout.ts";
import { ReadOnlyVersionStore } from "../../domain/trust/version_store_readonly.ts";
import { supervisorVersionsPath } from "../../domain/home/layout.ts";
import { DOC_SANDBOX_HOST, type SandboxHost } from "./sandbox_host.ts";

/** Options for {@linkcode verifyAsSupervisor}. */
export interface VerifyAsSupervisorOptions {
  home: HomeLayout;
  config: HomeConfig;
  clock: Clock;
  /** The repository root the agents' code is spawned from. */
  repo: string;
}

/** What the supervisor would verify and spawn, with the paths it would use. */
export interface SupervisorView extends VerifiedHome {
  /** The home as the supervisor resolves it (symlink-free). */
  home: HomeLayout;
  /** The repository root as the supervisor resolves it (symlink-free). */
  repo: string;
}

/**
 * Runs the supervisor's preflight on `home` without starting anything or
 * recording versions; throws the refusal the supervisor would.
 *
 * @example
 * ```ts ignore
 * const view = await verifyAsSupervisor({ home, config, clock: systemClock, repo });
 * console.log(view.commands.get("planner")!.args.join(" "));
 * ```
 */
export async function verifyAsSupervisor(
  options: VerifyAsSupervisorOptions,
): Promise<SupervisorView> {
  // the supervisor resolves both paths; Deno checks permissions on paths as written
  const home = homeLayout(await Deno.realPath(options.home.root));
  const repo = await Deno.realPath(options.repo);
  const secrets = await (await openKeyStore(home.keys)).loadAgent(SUPERVISOR_ID);
  secrets.seed.fill(0);
  const verified = await preflight({
    home,
    config: options.config,
    ageIdentity: secrets.ageIdentity,
    repo,
    clock: options.clock,
    versionStore: new ReadOnlyVersionStore(supervisorVersionsPath(home)),
  });
  return { ...verified, home, repo };
}

/** Options for {@linkcode commandFor}. */
export interface CommandForOptions {
  capset: Capset;
  toolManifest: ToolManifest;
  /** The home layout the flags name (e.g. `/srv/saoe` for docs). */
  home: HomeLayout;
  /** The repository root the agent entry and tool modules are read from. */
  repo: string;
  /** The Deno executable; the running one by default, as the supervisor does. */
  deno?: string;
  /** The machine the sandbox is rendered for; default {@linkcode DOC_SANDBOX_HOST}. */
  sandboxHost?: SandboxHost;
}

/**
 * An agent's command line for another home or repository layout, from the
 * supervisor's function (`agentCommand()`), e.g. for documentation.
 *
 * @example
 * ```ts ignore
 * const { flags, grants } = commandFor({ capset, toolManifest, home: homeLayout("/srv/saoe"), repo: "/opt/saoe" });
 * ```
 */
export function commandFor(options: CommandForOptions): AgentCommand {
  return agentCommand({
    capset: options.capset,
    home: options.home,
    repo: options.repo,
    toolManifest: options.toolManifest,
    sandboxHost: options.sandboxHost ?? DOC_SANDBOX_HOST,
    ...(options.deno !== undefined ? { deno: options.deno } : {}),
  });
}
