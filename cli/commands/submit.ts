/**
 * `saoe submit` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe submit`. */
export const submitCommand: Command = {
  path: ["submit"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe submit: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
