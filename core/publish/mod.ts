/**
 * The publishing side of the pipeline, shared by the planner, text_formatter,
 * image_filter and deployment agents: typed payloads, plan issuing, safe reads
 * of staged and sanitised images, the join of a session's parts, the page, and
 * the publication itself.
 *
 * @module
 */
export * from "./payloads.ts";
export * from "./plans.ts";
export * from "./safe_file.ts";
export * from "./media.ts";
export * from "./join_state.ts";
export * from "./page.ts";
export * from "./html_sanitizer.ts";
export * from "./publish.ts";
