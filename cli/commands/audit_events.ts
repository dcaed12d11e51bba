/**
 * `saoe audit events` (being written).
 *
 * @module
 */
import { type Command, EXIT } from "../command.ts";

/** `saoe audit events`. */
export const auditEventsCommand: Command = {
  path: ["audit", "events"],
  summary: "(not available yet)",
  usage: "",
  description: "This command is being written.",
  options: {},
  run(ctx) {
    ctx.err("saoe audit events: not available in this build");
    return Promise.resolve(EXIT.failure);
  },
};
