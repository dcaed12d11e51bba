/**
 * The intake agent: the pipeline's front door. It receives no envelopes; it
 * serves the authenticated submission API on its one loopback address and sends
 * `blog_article_intent` and `image_process_intent` to sanitization (see
 * `core/services/intake/`).
 *
 * @module
 */
import { type AgentDefinition, runAgent } from "../core/services/runtime/agent_runtime.ts";
import { startIntake } from "../core/services/intake/server.ts";

/** The intake agent. */
export const intake: AgentDefinition = {
  name: "intake",
  start: startIntake,
};

if (import.meta.main) await runAgent(intake);
