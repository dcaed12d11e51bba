/**
 * What the supervisor verifies before it starts anything: the trust root chain
 * from the pinned v1, the agent key directory, every agent's capability set
 * (decrypted with the supervisor's own age identity, dispatcher-signed, for that
 * agent, not rolled back), the tool manifest, and the exact command line of each
 * agent (the capset → flags function refuses a forbidden grant). Any failure is a
 * refusal that names the file and the fix; nothing has been spawned yet.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import type { Clock } from "../time/clock.ts";
import type { HomeConfig } from "../home/config.ts";
import type { HomeLayout } from "../home/layout.ts";
import { directoryFile, loadRootChain, readTrustFile, rootFolder } from "../trust/files.ts";
import { type VerifiedRoot, verifyRootChain } from "../trust/chain.ts";
import { verifyDirectory } from "../trust/directory.ts";
import type { AgentDirectory } from "../trust/agent_directory.ts";
import type { VersionStore } from "../trust/version_store.ts";
import { MAX_CAPSET_BYTES, verifyCapset } from "../capset/verify.ts";
import type { Capset } from "../capset/types.ts";
import { capsetPath, toolManifestPath } from "../vault/layout.ts";
import { decryptWith } from "../vault/age.ts";
import {
  MAX_TOOL_MANIFEST_BYTES,
  type ToolManifest,
  verifyToolManifest,
} from "../toolgate/manifest.ts";
import { type AgentCommand, agentCommand } from "./agent_command.ts";

/** Options for {@linkcode preflight}. */
export interface PreflightOptions {
  home: HomeLayout;
  config: HomeConfig;
  /** The supervisor's age identity (every capset is encrypted to it). */
  ageIdentity: string;
  /** Absolute, symlink-free repository root. */
  repo: string;
  clock: Clock;
  /** Rollback protection: `agents/supervisor/store/versions.json`. */
  versionStore: VersionStore;
  /** The Deno executable agents run with; default `Deno.execPath()`. */
  deno?: string;
}

/** Everything verified, by agent. */
export interface VerifiedHome {
  root: VerifiedRoot;
  directory: AgentDirectory;
  toolManifest: ToolManifest;
  /** Verified capsets of the agents in `config.agents`. */
  capsets: Map<string, Capset>;
  /** The exact command line of each agent. */
  commands: Map<string, AgentCommand>;
}

const REINIT = 'restore it from a backup or re-create the home with "deno task saoe init --force"';

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function step<T>(file: string, fix: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err: unknown) {
    const code = err instanceof SaoeError ? err.code : "bad_config";
    throw new SaoeError(
      code,
      `Refusing to start: ${file} failed verification: ${describe(err)}. Fix: ${fix}`,
      { file },
      { cause: err },
    );
  }
}

/**
 * Verifies the home's trust state and derives every agent's command line.
 *
 * @example
 * ```ts ignore
 * const verified = await preflight({ home, config, ageIdentity, repo, clock, versionStore });
 * console.log(verified.commands.get("planner")!.args.join(" "));
 * ```
 */
export async function preflight(options: PreflightOptions): Promise<VerifiedHome> {
  const { home, config, clock, versionStore } = options;
  const skewMs = config.skew_ms;
  const root = await step(
    rootFolder(home.trust),
    `check the trust root files and the root_pin in ${home.config}; ${REINIT}`,
    async () =>
      await verifyRootChain({
        roots: await loadRootChain(home.trust),
        pin: config.root_pin,
        clock,
        skewMs,
        versionStore,
      }),
  );
  const directory = await step(
    directoryFile(home.trust),
    `re-sign the agent key directory with the dispatcher keys; ${REINIT}`,
    async () =>
      await verifyDirectory(await readTrustFile(directoryFile(home.trust), 1024 * 1024), {
        root,
        clock,
        skewMs,
        versionStore,
      }),
  );
  const capsets = new Map<string, Capset>();
  for (const agent of config.agents) {
    const path = capsetPath(home.vault, agent);
    const capset = await step(
      path,
      `re-publish the capability set of "${agent}" from vault/capsets/${agent}.json; ${REINIT}`,
      async () => {
        const cipher = await readTrustFile(path, 2 * MAX_CAPSET_BYTES);
        const plain = await decryptWith(options.ageIdentity, cipher);
        return await verifyCapset(plain, {
          dispatcher: root.trusted,
          clock,
          skewMs,
          versionStore,
          expectedAgent: agent,
        });
      },
    );
    capsets.set(agent, capset);
  }
  const manifestPath = toolManifestPath(home.vault);
  const toolManifest = await step(
    manifestPath,
    `re-sign the tool manifest; ${REINIT}`,
    async () =>
      await verifyToolManifest(await readTrustFile(manifestPath, MAX_TOOL_MANIFEST_BYTES), {
        dispatcher: root.trusted,
        clock,
        skewMs,
      }),
  );
  const commands = new Map<string, AgentCommand>();
  for (const [agent, capset] of capsets) {
    const command = await step(
      capsetPath(home.vault, agent),
      `remove the forbidden grant from vault/capsets/${agent}.json and re-publish it`,
      () =>
        Promise.resolve(agentCommand({
          capset,
          home,
          repo: options.repo,
          toolManifest,
          ...(options.deno !== undefined ? { deno: options.deno } : {}),
        })),
    );
    commands.set(agent, command);
  }
  return { root, directory, toolManifest, capsets, commands };
}
