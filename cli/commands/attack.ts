/**
 * `saoe attack` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe attack`. */
export const attackCommand: Command = {
  path: ["attack"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe attack: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
