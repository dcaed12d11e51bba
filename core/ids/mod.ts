/**
 * Identifier patterns and decoders.
 *
 * @module
 */
export * from "./patterns.ts";
