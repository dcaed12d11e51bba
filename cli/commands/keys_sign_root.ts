/**
 * `saoe keys sign-root` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe keys sign-root`. */
export const keysSignRootCommand: Command = {
  path: ["keys", "sign-root"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe keys sign-root: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
