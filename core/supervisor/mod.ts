/**
 * The supervisor: verifies the home, spawns each agent with the exact command
 * line its capability set derives, hands over its secrets, appends verified
 * audit events to the ledger, restarts crashed agents and stops them cleanly.
 *
 * @module
 */
export * from "./agent_command.ts";
export * from "./handover.ts";
export * from "./backoff.ts";
export * from "./line_reader.ts";
export * from "./report_line.ts";
export * from "./tree_check.ts";
export * from "./folders.ts";
export * from "./preflight.ts";
export * from "./status.ts";
export * from "./event_batcher.ts";
export * from "./agent_process.ts";
export * from "./supervisor.ts";
export * from "./reload.ts";
export * from "./trust_watch.ts";
