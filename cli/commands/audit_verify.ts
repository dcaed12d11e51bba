/**
 * `saoe audit verify` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe audit verify`. */
export const auditVerifyCommand: Command = {
  path: ["audit", "verify"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe audit verify: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
