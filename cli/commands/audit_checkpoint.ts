/**
 * `saoe audit checkpoint` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe audit checkpoint`. */
export const auditCheckpointCommand: Command = {
  path: ["audit", "checkpoint"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe audit checkpoint: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
