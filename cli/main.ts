/**
 * Entry point of the `saoe` command line (placeholder until the CLI lands).
 *
 * @module
 */
console.log("saoe");
