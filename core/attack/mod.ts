/**
 * The red-team suite behind `saoe attack`: named attacks against a live
 * pipeline, each judged by the audit ledger.
 *
 * @module
 */
export * from "./types.ts";
export * from "./context.ts";
export * from "./registry.ts";
export * from "./run.ts";
export * from "./target.ts";
