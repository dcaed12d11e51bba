/**
 * ToolGate: signed tool manifest, signed execution plans, the gate that checks and
 * runs them, and the no-permission Worker protocol of the tools.
 *
 * @module
 */
export * from "./builtin_tools.ts";
export * from "./checks.ts";
export * from "./gate.ts";
export * from "./manifest.ts";
export * from "./module_file.ts";
export * from "./plan.ts";
export * from "./protocol.ts";
export * from "./run_worker.ts";
export * from "./used_plans_memory.ts";
