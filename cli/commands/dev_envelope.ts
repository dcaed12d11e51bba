/**
 * `saoe dev envelope` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe dev envelope`. */
export const devEnvelopeCommand: Command = {
  path: ["dev", "envelope"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe dev envelope: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
