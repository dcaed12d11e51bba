/**
 * `saoe capset explain` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe capset explain`. */
export const capsetExplainCommand: Command = {
  path: ["capset", "explain"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe capset explain: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
