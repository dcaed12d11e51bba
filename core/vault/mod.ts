/**
 * The encrypted, signed, read-only vault: templates and capability sets
 * age-encrypted to exactly the agents that may read them, template manifests
 * signed by the dispatcher, and a reader that verifies before it trusts.
 *
 * @module
 */
export * from "./age.ts";
export * from "./layout.ts";
export * from "./limits.ts";
export * from "./template_types.ts";
export * from "./publish.ts";
export * from "./reader.ts";
