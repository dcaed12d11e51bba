/**
 * `saoe capset check` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe capset check`. */
export const capsetCheckCommand: Command = {
  path: ["capset", "check"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe capset check: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
