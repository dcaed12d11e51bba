/**
 * The shape of one CLI command and the context it runs in. Each command lives in
 * `cli/commands/<verb>.ts` and is registered in `cli/registry.ts`.
 *
 * @module
 */

/** Options every command accepts. */
export interface GlobalOptions {
  /** The SAOE home (`--home`, else `$SAOE_HOME`, else `./.saoe`). */
  home: string;
  /** Machine-readable output (`--json`). */
  json: boolean;
}

/** Declaration of one option for `node:util` parseArgs plus its help text. */
export interface OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** Help text; the value placeholder for string options goes in `value`. */
  help: string;
  value?: string;
}

/** What a command's `run` receives. */
export interface CommandContext {
  global: GlobalOptions;
  /** Parsed option values by name. */
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  /** Positional arguments after the command words. */
  positionals: string[];
  /** Writes a line to standard output. */
  out(line: string): void;
  /** Writes a line to standard error. */
  err(line: string): void;
}

/** One `saoe` command. */
export interface Command {
  /** Command words, e.g. `["audit", "verify"]`. */
  path: string[];
  /** One line for `saoe --help`. */
  summary: string;
  /** Usage line after `saoe <path>`, e.g. `[--session ID]`. */
  usage: string;
  /** Longer description for `--help`. */
  description: string;
  options: Record<string, OptionSpec>;
  /** Runs the command; returns the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** Exit codes shared by all commands. */
export const EXIT = {
  ok: 0,
  /** A refusal, a failed check or a finding. */
  failure: 1,
  /** Bad usage: unknown command or option, missing argument. */
  usage: 2,
} as const;
