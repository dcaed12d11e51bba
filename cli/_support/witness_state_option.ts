/**
 * The `--state DIR` option every `saoe witness` command takes: the witness's
 * state directory, which lives outside any SAOE home (the global `--home` is
 * not used by these commands).
 *
 * @module
 */
import type { CommandContext, OptionSpec } from "./command.ts";
import { UsageError } from "./usage.ts";

/** The option spec of `--state`. */
export const STATE_OPTION: OptionSpec = {
  type: "string",
  value: "DIR",
  help: "the witness state directory (outside any SAOE home)",
};

/**
 * The `--state` value of `ctx`, refusing a missing one and any positional
 * argument with a {@linkcode UsageError}.
 *
 * @example
 * ```ts
 * import { stateDirOption } from "./witness_state_option.ts";
 * const ctx = {
 *   global: { home: ".saoe", json: false }, values: { state: "/srv/witness" }, positionals: [],
 *   out: () => {}, err: () => {},
 * };
 * if (stateDirOption(ctx) !== "/srv/witness") throw new Error();
 * ```
 */
export function stateDirOption(ctx: CommandContext): string {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0]!.slice(0, 80))}`);
  }
  const state = ctx.values.state;
  if (typeof state !== "string" || state === "") {
    throw new UsageError("Missing --state DIR: the witness state directory");
  }
  return state;
}

/** The string value of option `name`, or a {@linkcode UsageError} naming it. */
export function requiredOption(ctx: CommandContext, name: string, what: string): string {
  const value = ctx.values[name];
  if (typeof value !== "string" || value === "") {
    throw new UsageError(`Missing --${name}: ${what}`);
  }
  return value;
}
