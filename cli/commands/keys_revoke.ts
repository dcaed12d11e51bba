/**
 * `saoe keys revoke` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe keys revoke`. */
export const keysRevokeCommand: Command = {
  path: ["keys", "revoke"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe keys revoke: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
