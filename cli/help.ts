/**
 * Help text for `saoe --help` and `saoe <command> --help`.
 *
 * @module
 */
import type { Command, OptionSpec } from "./_support/command.ts";

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${
      o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""
    }`;
    return [flag + (o.multiple ? " (repeatable)" : ""), o.help] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`);
}

/** The overview listing every command. */
export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(" ").length));
  return [
    "saoe: the Secure Agent Operating Environment",
    "",
    "Usage: saoe <command> [options]   (from the repository: deno task saoe <command> …)",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`),
    "",
    'Every command takes --home DIR, --json and --help. Run "saoe <command> --help" for details.',
  ].join("\n");
}

/** Help for one command. */
export function commandHelp(command: Command, globals: Record<string, OptionSpec>): string {
  return [
    `Usage: saoe ${command.path.join(" ")} ${command.usage}`.trimEnd(),
    "",
    command.description,
    "",
    "Options:",
    ...optionLines({ ...command.options, ...globals }),
  ].join("\n");
}
