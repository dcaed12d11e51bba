/**
 * The command line a hostile stand-in runs with, built from an agent's real
 * `AgentCommand` (docs/design.md section 12): the entry module swapped for the
 * stand-in, everything else as the supervisor spawns it. `layers` picks what
 * confines it, so a test can prove each layer alone:
 *
 * - `both`: the supervisor's exact command (bubblewrap, kernel limits, uid, and
 *   the Deno flags inside): what production runs;
 * - `deno`: the Deno command alone (its permission flags, no OS sandbox);
 * - `os`: the OS sandbox alone (the same binds, namespaces, limits and uid)
 *   around `deno run --allow-all`.
 *
 * Only the attack tools and tests build the last two; the supervisor has no
 * way to spawn them.
 *
 * @module
 */
import type { AgentCommand } from "../../services/supervisor/agent_command.ts";
import { WORKER_OPTIONS_FLAG } from "../../domain/capset/permissions.ts";
import { sandboxArgv } from "../../services/supervisor/sandbox_argv.ts";
import type { SandboxHost } from "../../services/supervisor/sandbox_host.ts";

/** Which layers confine a hostile run. */
export type SandboxLayers = "both" | "deno" | "os";

/** Every layer combination, in the order a matrix prints them. */
export const LAYER_COMBINATIONS: readonly SandboxLayers[] = ["both", "deno", "os"];

/** Options for {@linkcode hostileCommand}. */
export interface HostileCommandOptions {
  command: AgentCommand;
  host: SandboxHost;
  layers: SandboxLayers;
  /** The repository root (the sandbox's working folder). */
  repo: string;
  /** The stand-in module (under the repository's bound code) and its arguments. */
  script: string;
  args: readonly string[];
}

/**
 * The program and arguments of a hostile run.
 *
 * @example
 * ```ts ignore
 * const { program, args } = hostileCommand({ command, host, layers: "os", repo, script, args: [] });
 * ```
 */
export function hostileCommand(
  options: HostileCommandOptions,
): { program: string; args: string[] } {
  const { command, layers } = options;
  const denoArgs = [...command.args.slice(0, -1), options.script, ...options.args];
  if (layers === "deno") return { program: command.deno, args: denoArgs };
  const inner = layers === "both" ? [command.deno, ...denoArgs] : [
    command.deno,
    "run",
    "--allow-all",
    "--cached-only",
    // a ToolGate host's Workers need it whatever the permissions
    ...command.args.filter((a) => a === WORKER_OPTIONS_FLAG),
    options.script,
    ...options.args,
  ];
  const [program, ...args] = sandboxArgv({
    spec: command.sandbox,
    host: options.host,
    ...(command.identity !== undefined ? { identity: command.identity } : {}),
    cwd: options.repo,
    inner,
  });
  return { program: program!, args };
}

/** One attempt the hostile stand-in reports. */
export interface HostileResult {
  name: string;
  /** `succeeded`, or the class of the error that stopped it (`NotCapable`: Deno's permissions). */
  outcome: string;
  message?: string;
  /** For a link or FIFO attempt: whether it exists afterwards. */
  created?: boolean;
}

/**
 * Runs a hostile command as the supervisor spawns an agent (cleared
 * environment, from the repository) and returns the stand-in's report, or
 * why there is none.
 *
 * @example
 * ```ts ignore
 * const { results, error } = await runHostile(hostileCommand({ ... }), repo);
 * ```
 */
export async function runHostile(
  command: { program: string; args: string[] },
  repo: string,
): Promise<{ results: HostileResult[]; error?: string }> {
  const out = await new Deno.Command(command.program, {
    args: command.args,
    cwd: repo,
    clearEnv: true,
    env: {},
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const last = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  try {
    return { results: (JSON.parse(last) as { results: HostileResult[] }).results };
  } catch {
    return {
      results: [],
      error: `exit ${out.code}: ${new TextDecoder().decode(out.stderr).slice(0, 300)}`,
    };
  }
}
