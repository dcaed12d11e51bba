/**
 * `saoe quarantine` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe quarantine`. */
export const quarantineCommand: Command = {
  path: ["quarantine"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe quarantine: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
