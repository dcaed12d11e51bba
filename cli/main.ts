/**
 * Entry point of the `saoe` command line: finds the command, parses its options,
 * runs it, and turns every refusal into one clear line (or JSON with `--json`)
 * and an exit code. No stack trace reaches a user.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { isSaoeError } from "../core/primitives/errors.ts";
import { type Command, type CommandContext, EXIT, type OptionSpec } from "./_support/command.ts";
import { COMMANDS } from "./registry.ts";
import { commandHelp, mainHelp } from "./help.ts";
import { inert, jsonText } from "./_support/output.ts";

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  home: { type: "string", value: "DIR", help: "SAOE home (default $SAOE_HOME or ./.saoe)" },
  json: { type: "boolean", help: "machine-readable JSON output" },
  help: { type: "boolean", short: "h", help: "show help for this command" },
};

function findCommand(args: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of COMMANDS) {
    const n = command.path.length;
    if (args.length >= n && command.path.every((w, i) => args[i] === w)) {
      if (best === undefined || n > best.command.path.length) {
        best = { command, rest: args.slice(n) };
      }
    }
  }
  return best;
}

function defaultHome(): string {
  try {
    return Deno.env.get("SAOE_HOME") ?? ".saoe";
  } catch {
    return ".saoe";
  }
}

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const out = (line: string) => console.log(line);
  const err = (line: string) => console.error(line);
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    out(mainHelp(COMMANDS));
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const found = findCommand(args);
  if (found === undefined) {
    err(
      `saoe: unknown command "${
        inert(args.slice(0, 2).join(" "))
      }": run "saoe --help" for the list`,
    );
    return EXIT.usage;
  }
  const { command, rest } = found;
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [
          name,
          {
            type: o.type,
            ...(o.multiple ? { multiple: true } : {}),
            ...(o.short ? { short: o.short } : {}),
          },
        ]),
      ),
    });
  } catch (e: unknown) {
    const message = e instanceof Error ? e.message : String(e);
    err(
      `saoe ${command.path.join(" ")}: ${inert(message)}; see "saoe ${
        command.path.join(" ")
      } --help"`,
    );
    return EXIT.usage;
  }
  const values = parsed.values as CommandContext["values"];
  if (values.help === true) {
    out(commandHelp(command, GLOBAL_OPTIONS));
    return EXIT.ok;
  }
  const json = values.json === true;
  const ctx: CommandContext = {
    global: { home: typeof values.home === "string" ? values.home : defaultHome(), json },
    values,
    positionals: parsed.positionals,
    out,
    err,
  };
  try {
    return await command.run(ctx);
  } catch (e: unknown) {
    if (isSaoeError(e)) {
      // messages can quote attacker-chosen text (file names, ids): print it inert
      if (json) out(jsonText({ ok: false, error: e.code, message: e.message }));
      else err(`saoe ${command.path.join(" ")}: ${inert(e.message)} (${e.code})`);
      return EXIT.failure;
    }
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    if (json) out(jsonText({ ok: false, error: "internal_error", message }));
    else err(`saoe ${command.path.join(" ")}: internal error: ${inert(message)}`);
    return EXIT.failure;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
