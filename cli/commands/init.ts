/**
 * `saoe init` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe init`. */
export const initCommand: Command = {
  path: ["init"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe init: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
