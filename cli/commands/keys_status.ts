/**
 * `saoe keys status` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe keys status`. */
export const keysStatusCommand: Command = {
  path: ["keys", "status"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe keys status: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
