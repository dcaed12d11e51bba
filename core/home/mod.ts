/**
 * The runtime home layout.
 *
 * @module
 */
export * from "./layout.ts";
