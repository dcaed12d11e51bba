/**
 * `saoe version`: the SAOE and Deno versions.
 *
 * @module
 */
import type { Command } from "../_support/command.ts";
import { EXIT } from "../_support/command.ts";

/** SAOE release version. */
export const SAOE_VERSION = "0.1.0";

/** `saoe version`. */
export const versionCommand: Command = {
  path: ["version"],
  summary: "print the SAOE and Deno versions",
  usage: "",
  description: "Prints the SAOE version and the Deno runtime it runs on.",
  options: {},
  run(ctx) {
    const info = { saoe: SAOE_VERSION, deno: Deno.version.deno };
    ctx.out(ctx.global.json ? JSON.stringify(info) : `saoe ${info.saoe} (deno ${info.deno})`);
    return Promise.resolve(EXIT.ok);
  },
};
