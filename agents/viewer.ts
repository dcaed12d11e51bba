/**
 * The viewer agent: a read-only web console. It receives and sends no
 * envelopes; it serves the audit trail, sessions, articles with their images,
 * ledger verification and pipeline status on its one loopback address (see
 * `core/services/viewer/`). Its capability set lets it read `output/` and `audit/` and
 * write nothing but its own folders.
 *
 * @module
 */
import { type AgentDefinition, runAgent } from "../core/services/runtime/agent_runtime.ts";
import { startViewer } from "../core/services/viewer/server.ts";

/** The viewer agent. */
export const viewer: AgentDefinition = {
  name: "viewer",
  start: startViewer,
};

if (import.meta.main) await runAgent(viewer);
