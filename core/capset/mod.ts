/**
 * Capability sets: the signed statement of what one agent may receive, send, run,
 * decrypt, read, write and listen on; its signing and verification, the store of
 * capsets in force, the one capset → Deno flags function and the CI check.
 *
 * @module
 */
export * from "./types.ts";
export * from "./sign.ts";
export * from "./verify.ts";
export * from "./store.ts";
export * from "./permissions.ts";
export * from "./check.ts";
export * from "./check_report.ts";
export * from "./check_sources.ts";
export * from "./check_home_templates.ts";
export * from "./check_home.ts";
