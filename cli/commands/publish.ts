/**
 * `saoe publish` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe publish`. */
export const publishCommand: Command = {
  path: ["publish"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe publish: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
