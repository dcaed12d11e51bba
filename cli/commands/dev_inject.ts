/**
 * `saoe dev inject` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe dev inject`. */
export const devInjectCommand: Command = {
  path: ["dev", "inject"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe dev inject: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
