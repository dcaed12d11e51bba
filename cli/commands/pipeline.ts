/**
 * `saoe pipeline` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe pipeline`. */
export const pipelineCommand: Command = {
  path: ["pipeline"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe pipeline: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
