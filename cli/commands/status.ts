/**
 * `saoe status` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe status`. */
export const statusCommand: Command = {
  path: ["status"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe status: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
