/**
 * The intake agent's logic: authenticated submissions over loopback HTTP,
 * server-side limits, staging and sending into the pipeline.
 *
 * @module
 */
export * from "./limits.ts";
export * from "./refusal.ts";
export * from "./auth.ts";
export * from "./quota.ts";
export * from "./image_check.ts";
export * from "./submission.ts";
export * from "./accept.ts";
export * from "./handler.ts";
export * from "./server.ts";
export * from "./client.ts";
export * from "./follow.ts";
