/**
 * What the supervisor verifies before it starts anything: the trust root chain
 * from the pinned v1, the agent key directory, every agent's capability set
 * (decrypted with the supervisor's own age identity, dispatcher-signed, for that
 * agent, not rolled back), the tool manifest, the manifest of the newest version
 * of every template (signed, unexpired), and the exact command line of each
 * agent (the capset → flags function refuses a forbidden grant). Any failure is a
 * refusal that names the file and the fix; nothing has been spawned yet. An
 * expired statement's fix is the command that renews it (`saoe keys renew …`).
 * The same verification runs again when the trust state changes while the
 * pipeline runs (`supervisor.ts`, reload).
 *
 * @module
 */
import { verifyTemplateManifest } from "../../domain/vault/template_manifest.ts";
import { SaoeError } from "../../primitives/errors.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { HomeConfig } from "../../domain/home/config.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import {
  directoryFile,
  loadRootChain,
  readTrustFile,
  rootFolder,
} from "../../domain/trust/files.ts";
import { type VerifiedRoot, verifyRootChain } from "../../domain/trust/chain.ts";
import { verifyDirectory } from "../../domain/trust/directory.ts";
import type { AgentDirectory } from "../../domain/trust/agent_directory.ts";
import type { VersionStore } from "../../domain/trust/version_store.ts";
import { MAX_CAPSET_BYTES, verifyCapset } from "../../domain/capset/verify.ts";
import type { Capset } from "../../domain/capset/types.ts";
import { join } from "node:path";
import { TEMPLATE_ID_RE } from "../../primitives/ids/patterns.ts";
import {
  capsetPath,
  codeManifestPath,
  templateManifestPath,
  toolManifestPath,
} from "../../domain/vault/layout.ts";
import {
  type CodeManifest,
  MAX_CODE_MANIFEST_BYTES,
  verifyCodeManifest,
} from "../../domain/code/manifest.ts";
import { MAX_MANIFEST_BYTES } from "../../domain/vault/limits.ts";
import { decryptWith } from "../../domain/vault/age.ts";
import {
  MAX_TOOL_MANIFEST_BYTES,
  type ToolManifest,
  verifyToolManifest,
} from "../../domain/toolgate/manifest.ts";
import { type AgentCommand, agentCommand } from "./agent_command.ts";
import { detectSandboxHost, type SandboxHost } from "./sandbox_host.ts";
import { agentIdentity, checkSandboxIds } from "./agent_identity.ts";

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
  /** The machine's sandbox tools; default {@linkcode detectSandboxHost} (refuses when missing). */
  sandboxHost?: SandboxHost;
}

/** Everything verified, by agent. */
export interface VerifiedHome {
  root: VerifiedRoot;
  directory: AgentDirectory;
  toolManifest: ToolManifest;
  /** The dispatcher-signed hashes of every agent's code, checked before each spawn. */
  codeManifest: CodeManifest;
  /** Verified capsets of the agents in `config.agents`. */
  capsets: Map<string, Capset>;
  /** The newest manifest version of each template in the vault (each verified). */
  templates: Map<string, number>;
  /** The exact command line of each agent. */
  commands: Map<string, AgentCommand>;
  /** The machine's sandbox tools and layout the commands were rendered for. */
  sandboxHost: SandboxHost;
}

/** Options for {@linkcode verifyTrustState}: those of {@linkcode preflight} but the command lines'. */
export type TrustStateOptions = Omit<PreflightOptions, "repo" | "deno" | "sandboxHost">;

/** The verified trust state, without the command lines derived from it. */
export type VerifiedTrustState = Omit<VerifiedHome, "commands" | "sandboxHost">;

const REINIT = 'restore it from a backup or re-create the home with "deno task saoe init --force"';

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Which `saoe keys renew` target re-signs a statement. */
type RenewTarget = "root" | "directory" | "capsets" | "manifests" | "tools";

interface Step {
  file: string;
  fix: string;
  /** Named in the fix when the statement expired. */
  renew?: RenewTarget;
  home: HomeLayout;
}

async function step<T>(where: Step, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err: unknown) {
    const code = err instanceof SaoeError ? err.code : "bad_config";
    const fix = code === "expired" && where.renew !== undefined
      ? `renew it with "saoe keys renew ${where.renew} --home ${where.home.root}" (then start the pipeline again)`
      : where.fix;
    throw new SaoeError(
      code,
      `Refusing to start: ${where.file} failed verification: ${describe(err)}. Fix: ${fix}`,
      { file: where.file },
      { cause: err },
    );
  }
}

async function newestTemplateVersions(vault: string): Promise<Map<string, number>> {
  const newest = new Map<string, number>();
  const folder = join(vault, "templates");
  let ids: Deno.DirEntry[];
  try {
    ids = await Array.fromAsync(Deno.readDir(folder));
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return newest;
    throw err;
  }
  for (const entry of ids) {
    if (!entry.isDirectory || !TEMPLATE_ID_RE.test(entry.name)) continue;
    for await (const file of Deno.readDir(join(folder, entry.name))) {
      const m = /^([1-9][0-9]{0,9})\.manifest\.json$/.exec(file.name);
      if (m !== null) newest.set(entry.name, Math.max(newest.get(entry.name) ?? 0, Number(m[1])));
    }
  }
  return newest;
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
  const { home } = options;
  const state = await verifyTrustState(options);
  const sandboxHost = options.sandboxHost ?? await detectSandboxHost();
  if (sandboxHost.uid === 0) checkSandboxIds(options.config, options.config.agents);
  const commands = new Map<string, AgentCommand>();
  for (const [agent, capset] of state.capsets) {
    const command = await step(
      {
        file: capsetPath(home.vault, agent),
        fix: `remove the forbidden grant from vault/capsets/${agent}.json and re-publish it`,
        home,
      },
      () =>
        Promise.resolve(agentCommand({
          capset,
          home,
          repo: options.repo,
          toolManifest: state.toolManifest,
          sandboxHost,
          ...agentIdentity(options.config, capset, sandboxHost),
          ...(options.deno !== undefined ? { deno: options.deno } : {}),
        })),
    );
    commands.set(agent, command);
  }
  return { ...state, commands, sandboxHost };
}

/**
 * Verifies the home's trust state as {@linkcode preflight} does (the same
 * refusals), without deriving command lines: what a key ceremony records as
 * the state in force.
 *
 * @example
 * ```ts ignore
 * const state = await verifyTrustState({ home, config, ageIdentity, clock, versionStore });
 * console.log(state.directory.version);
 * ```
 */
export async function verifyTrustState(options: TrustStateOptions): Promise<VerifiedTrustState> {
  const { home, config, clock, versionStore } = options;
  const skewMs = config.skew_ms;
  const root = await step(
    {
      file: rootFolder(home.trust),
      fix: `check the trust root files and the root_pin in ${home.config}; ${REINIT}`,
      renew: "root",
      home,
    },
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
    {
      file: directoryFile(home.trust),
      fix: `re-sign the agent key directory with the dispatcher keys; ${REINIT}`,
      renew: "directory",
      home,
    },
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
      {
        file: path,
        fix:
          `re-publish the capability set of "${agent}" from vault/capsets/${agent}.json; ${REINIT}`,
        renew: "capsets",
        home,
      },
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
    { file: manifestPath, fix: `re-sign the tool manifest; ${REINIT}`, renew: "tools", home },
    async () =>
      await verifyToolManifest(await readTrustFile(manifestPath, MAX_TOOL_MANIFEST_BYTES), {
        dispatcher: root.trusted,
        clock,
        skewMs,
      }),
  );
  const codePath = codeManifestPath(home.vault);
  const codeManifest = await step(
    {
      file: codePath,
      fix: `re-pin the agents' code with "saoe publish --code"; ${REINIT}`,
      // renewing the tool manifest re-signs the code manifest with it
      renew: "tools",
      home,
    },
    async () =>
      await verifyCodeManifest(await readTrustFile(codePath, MAX_CODE_MANIFEST_BYTES), {
        dispatcher: root.trusted,
        clock,
        skewMs,
      }),
  );
  // the manifests agents will verify when they resolve a template (each newest version)
  const templates = await newestTemplateVersions(home.vault);
  for (const [id, version] of templates) {
    const path = templateManifestPath(home.vault, id, version);
    await step(
      {
        file: path,
        fix: `re-publish template ${id} with "saoe publish"; ${REINIT}`,
        renew: "manifests",
        home,
      },
      async () =>
        await verifyTemplateManifest(await readTrustFile(path, MAX_MANIFEST_BYTES), {
          dispatcher: root.trusted,
          clock,
          skewMs,
          id,
          version,
        }),
    );
  }
  return { root, directory, toolManifest, codeManifest, capsets, templates };
}
