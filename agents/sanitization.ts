/**
 * The sanitization agent: re-validates what intake sent (all 14 steps ran before
 * this handler) and forwards to the planner only what its capability set allows,
 * with text normalised (NFC, no control characters other than newline and tab).
 *
 * @module
 */
import { type AgentDefinition, runAgent } from "../core/services/runtime/agent_runtime.ts";
import type { JsonObject } from "../core/primitives/json/strict_parse.ts";

// control characters other than tab and newline have no place in an article
// deno-lint-ignore no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** NFC-normalises a string and removes control characters (keeps `\n` and `\t`). */
export function cleanText(text: string): string {
  return text.normalize("NFC").replace(/\r\n?/g, "\n").replace(CONTROL_RE, "");
}

function clean(payload: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(payload)) {
    out[key] = typeof value === "string" ? cleanText(value) : value;
  }
  return out;
}

/** The sanitization agent. */
export const sanitization: AgentDefinition = {
  name: "sanitization",
  async handle(ctx, { envelope }) {
    await ctx.send({
      to: "planner",
      template: envelope.template.id,
      payload: clean(envelope.payload),
      sessionId: envelope.session_id,
      humanReadable: `sanitised ${envelope.template.id}`,
    });
  },
};

if (import.meta.main) await runAgent(sanitization);
