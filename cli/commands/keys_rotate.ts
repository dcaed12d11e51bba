/**
 * `saoe keys rotate` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe keys rotate`. */
export const keysRotateCommand: Command = {
  path: ["keys", "rotate"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe keys rotate: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
