/**
 * DSSE signed statements: one signer, one verifier, for every statement kind.
 *
 * @module
 */
export * from "./types.ts";
export * from "./pae.ts";
export * from "./parse.ts";
export * from "./sign.ts";
export * from "./verify.ts";
