/**
 * Strict JSON parsing and typed decoding.
 *
 * @module
 */
export * from "./strict_parse.ts";
export * from "./decode.ts";
