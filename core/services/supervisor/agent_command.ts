/**
 * The exact command line of one agent process, from its verified capability set:
 * the runtime flags every agent gets, then the permission flags of the one
 * capset → permissions function, and around that Deno command the operating-
 * system sandbox the same function renders (bind mounts, network, kernel
 * limits, `sandbox_argv.ts`). The supervisor spawns exactly this; `saoe capset
 * explain` prints exactly this.
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex, utf8 } from "../../primitives/crypto/bytes.ts";
import type { Capset } from "../../domain/capset/types.ts";
import { capsetPermissions, type Grant } from "../../domain/capset/permissions.ts";
import type { SandboxSpec } from "../../domain/capset/sandbox_spec.ts";
import { type AgentIdentity, sandboxArgv } from "./sandbox_argv.ts";
import type { SandboxHost } from "./sandbox_host.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import type { ToolManifest } from "../../domain/toolgate/manifest.ts";
import { AGENT_ID_RE, assertIdentifier } from "../../primitives/ids/patterns.ts";

/** Flags every agent process gets before its permission flags. */
export const RUNTIME_FLAGS = ["--no-prompt", "--cached-only", "--frozen"] as const;

/** Options for {@linkcode agentCommand}. */
export interface AgentCommandOptions {
  capset: Capset;
  home: HomeLayout;
  /** Absolute repository root (agent entry points and tool modules). */
  repo: string;
  /** The verified tool manifest (tool module paths for ToolGate hosts). */
  toolManifest?: ToolManifest;
  /** The Deno executable; default `Deno.execPath()`. */
  deno?: string;
  /** V8 heap limit per agent in MiB; default 192. */
  maxHeapMiB?: number;
  /** The machine's sandbox tools and system layout. */
  sandboxHost: SandboxHost;
  /** The agent's own uid and gid (a supervisor running as root). */
  identity?: AgentIdentity;
}

/** One agent's command line, with where each permission came from. */
export interface AgentCommand {
  /** What the supervisor spawns: the sandbox's first program (`prlimit`). */
  program: string;
  /** Its arguments: the sandbox, then the Deno command. */
  programArgs: string[];
  /** The Deno executable inside the sandbox. */
  deno: string;
  /** The Deno arguments after the executable. */
  args: string[];
  /** The sandbox the capset renders. */
  sandbox: SandboxSpec;
  /** The uid, gid and groups it runs as (a supervisor running as root). */
  identity?: AgentIdentity;
  /** The permission flags alone. */
  flags: string[];
  grants: Grant[];
  /** The agent's entry module. */
  entry: string;
}

/**
 * Builds the command line of the agent a capset belongs to.
 *
 * @example
 * ```ts ignore
 * const { program, programArgs } = agentCommand({ capset, home, repo: "/opt/saoe", sandboxHost });
 * new Deno.Command(program, { args: programArgs, clearEnv: true });
 * ```
 */
export function agentCommand(options: AgentCommandOptions): AgentCommand {
  const agent = assertIdentifier(options.capset.agent, AGENT_ID_RE, "agent id");
  const toolModules: Record<string, string> = {};
  for (const tool of options.capset.tools) {
    const entry = options.toolManifest?.tools.find((t) => t.name === tool.name);
    if (entry !== undefined) toolModules[tool.name] = join(options.repo, entry.module);
  }
  const deno = options.deno ?? Deno.execPath();
  const { flags, grants, sandbox } = capsetPermissions(options.capset, options.home, {
    toolModules,
    codePaths: [deno, ...codePaths(options.repo)],
  });
  const entry = join(options.repo, "agents", `${agent}.ts`);
  const heap = options.maxHeapMiB ?? 192;
  const args = [
    "run",
    ...RUNTIME_FLAGS,
    `--v8-flags=--max-old-space-size=${heap}`,
    ...flags,
    entry,
  ];
  const [program, ...programArgs] = sandboxArgv({
    spec: sandbox,
    host: options.sandboxHost,
    ...(options.identity !== undefined ? { identity: options.identity } : {}),
    cwd: options.repo,
    inner: [deno, ...args],
  });
  return {
    program: program!,
    programArgs,
    deno,
    args,
    sandbox,
    ...(options.identity !== undefined ? { identity: options.identity } : {}),
    flags,
    grants,
    entry,
  };
}

/**
 * The code every agent runs, under the repository root: its configuration and
 * lock file, the agents' and core modules, and the npm files. Bound read-only
 * into every sandbox (the Deno executable is added by {@linkcode agentCommand}).
 *
 * @example
 * ```ts
 * import { codePaths } from "./agent_command.ts";
 * if (!codePaths("/opt/saoe").includes("/opt/saoe/core")) throw new Error();
 * ```
 */
export function codePaths(repo: string): string[] {
  return ["deno.json", "deno.lock", "node_modules", "agents", "core"].map((p) => join(repo, p));
}

/**
 * The SHA-256 of each agent's exact command line, sandbox included (what
 * `agent_started` records, so the ledger shows the permissions and the sandbox
 * every process ran with).
 *
 * @example
 * ```ts
 * import { commandHashes } from "./agent_command.ts";
 * import type { AgentCommand } from "./agent_command.ts";
 * const cmd = { program: "prlimit", programArgs: ["--", "bwrap"] } as AgentCommand;
 * const hashes = await commandHashes(new Map([["planner", cmd]]));
 * if (hashes.get("planner")?.length !== 64) throw new Error();
 * ```
 */
export async function commandHashes(
  commands: ReadonlyMap<string, AgentCommand>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [agent, command] of commands) {
    out.set(
      agent,
      await sha256Hex(utf8(JSON.stringify([command.program, ...command.programArgs]))),
    );
  }
  return out;
}
