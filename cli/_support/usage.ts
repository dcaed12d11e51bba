/**
 * Usage errors (exit code 2): a missing argument, a malformed option value or an
 * unknown name. The main entry turns every `SaoeError` into exit code 1; a usage
 * problem is the operator's typo, not a refusal, so commands report it through
 * {@linkcode withUsage} instead.
 *
 * @module
 */
import { type CommandContext, EXIT } from "./command.ts";
import { inert, jsonText } from "./output.ts";

/** A mistake in how a command was called; reported with exit code 2. */
export class UsageError extends Error {
  /** Creates a usage error with a message that names the value and what was expected. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Runs `body`, turning a thrown {@linkcode UsageError} into one line (or a JSON
 * object with `--json`) and exit code 2. Other errors pass through to the main
 * entry.
 *
 * @example
 * ```ts
 * import { UsageError, withUsage } from "./usage.ts";
 * const lines: string[] = [];
 * const ctx = {
 *   global: { home: ".saoe", json: false }, values: {}, positionals: [],
 *   out: (l: string) => lines.push(l), err: (l: string) => lines.push(l),
 * };
 * const code = await withUsage(["status"], ctx, () => {
 *   throw new UsageError("Missing AGENT");
 * });
 * if (code !== 2 || !lines[0]!.includes("Missing AGENT")) throw new Error();
 * ```
 */
export async function withUsage(
  path: readonly string[],
  ctx: CommandContext,
  body: () => Promise<number> | number,
): Promise<number> {
  try {
    return await body();
  } catch (err: unknown) {
    if (!(err instanceof UsageError)) throw err;
    const name = `saoe ${path.join(" ")}`;
    if (ctx.global.json) {
      ctx.out(jsonText({ ok: false, error: "usage", message: err.message }));
    } else {
      ctx.err(`${name}: ${inert(err.message)}; see "${name} --help"`);
    }
    return EXIT.usage;
  }
}

/** Options for {@linkcode intOption}. */
export interface IntOptionSpec {
  /** The option's name without dashes, for the message. */
  name: string;
  min: number;
  max: number;
}

/**
 * Parses an optional decimal integer option value; `undefined` when absent.
 *
 * @example
 * ```ts
 * import { intOption } from "./usage.ts";
 * if (intOption("3", { name: "keys", min: 1, max: 32 }) !== 3) throw new Error();
 * if (intOption(undefined, { name: "keys", min: 1, max: 32 }) !== undefined) throw new Error();
 * ```
 */
export function intOption(value: unknown, spec: IntOptionSpec): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = /^[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= spec.min && n <= spec.max)) {
    throw new UsageError(
      `Invalid --${spec.name} ${
        JSON.stringify(text.slice(0, 40))
      }: expected an integer from ${spec.min} to ${spec.max}`,
    );
  }
  return n;
}

/**
 * Returns `value` when it matches `pattern`, else throws a {@linkcode UsageError}
 * naming the option and what was expected.
 *
 * @example
 * ```ts
 * import { patternOption } from "./usage.ts";
 * patternOption("planner", /^[a-z]+$/, "--agent", "an agent id");
 * ```
 */
export function patternOption(
  value: string,
  pattern: RegExp,
  name: string,
  expected: string,
): string {
  if (!pattern.test(value)) {
    throw new UsageError(
      `Invalid ${name} ${JSON.stringify(value.slice(0, 80))}: expected ${expected}`,
    );
  }
  return value;
}
