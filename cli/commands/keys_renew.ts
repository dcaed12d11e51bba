/**
 * `saoe keys renew` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe keys renew`. */
export const keysRenewCommand: Command = {
  path: ["keys", "renew"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe keys renew: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
