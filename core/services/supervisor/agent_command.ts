/**
 * The exact command line of one agent process, from its verified capability set:
 * the runtime flags every agent gets, then the permission flags of the one
 * capset → flags function. The supervisor spawns exactly this; `saoe capset
 * explain` prints exactly this.
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex, utf8 } from "../../primitives/crypto/bytes.ts";
import type { Capset } from "../../domain/capset/types.ts";
import { capsetPermissions, type Grant } from "../../domain/capset/permissions.ts";
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
}

/** One agent's command line, with where each permission came from. */
export interface AgentCommand {
  /** The executable. */
  deno: string;
  /** Arguments after the executable. */
  args: string[];
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
 * const { deno, args } = agentCommand({ capset, home, repo: "/opt/saoe" });
 * new Deno.Command(deno, { args, clearEnv: true });
 * ```
 */
export function agentCommand(options: AgentCommandOptions): AgentCommand {
  const agent = assertIdentifier(options.capset.agent, AGENT_ID_RE, "agent id");
  const toolModules: Record<string, string> = {};
  for (const tool of options.capset.tools) {
    const entry = options.toolManifest?.tools.find((t) => t.name === tool.name);
    if (entry !== undefined) toolModules[tool.name] = join(options.repo, entry.module);
  }
  const { flags, grants } = capsetPermissions(options.capset, options.home, { toolModules });
  const entry = join(options.repo, "agents", `${agent}.ts`);
  const heap = options.maxHeapMiB ?? 192;
  return {
    deno: options.deno ?? Deno.execPath(),
    args: ["run", ...RUNTIME_FLAGS, `--v8-flags=--max-old-space-size=${heap}`, ...flags, entry],
    flags,
    grants,
    entry,
  };
}

/**
 * The SHA-256 of each agent's exact argument list (what `agent_started` records,
 * so the ledger shows the permissions every process ran with).
 *
 * @example
 * ```ts
 * import { commandHashes } from "./agent_command.ts";
 * const cmd = { deno: "deno", args: ["run", "x.ts"], flags: [], grants: [], entry: "x.ts" };
 * const hashes = await commandHashes(new Map([["planner", cmd]]));
 * if (hashes.get("planner")?.length !== 64) throw new Error();
 * ```
 */
export async function commandHashes(
  commands: ReadonlyMap<string, AgentCommand>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [agent, command] of commands) {
    out.set(agent, await sha256Hex(utf8(JSON.stringify(command.args))));
  }
  return out;
}
