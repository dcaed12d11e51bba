/**
 * Identifier attack strings: each one, used unchecked in a path, a query or a
 * vault lookup, would escape a folder, truncate a name or alias another id.
 * Shared by the id pattern tests and the home layout tests.
 *
 * @module
 */

/** Strings no agent, template or session id may ever be. */
export const ATTACK_STRINGS: readonly string[] = [
  "",
  ".",
  "..",
  "../",
  "../etc",
  "../../../../etc/passwd",
  "a/../../b",
  "a/b",
  "a\\b",
  "..\\..\\windows",
  "/etc/passwd",
  "/",
  "C:\\Windows",
  "~root",
  "planner\u0000",
  "plan\u0000ner",
  "planner\n",
  "planner\r",
  "planner\r\n",
  "\nplanner",
  "planner ",
  " planner",
  "plan ner",
  "planner\t",
  "Planner",
  "PLANNER",
  "pl\u0430nner", // Cyrillic a
  "\uff50lanner", // fullwidth p
  "planner\u200b", // zero-width space
  "%2e%2e%2f",
  "..%2f",
  "planner;drop",
  "planner'--",
  "planner*",
  "planner.json",
  ".hidden",
  "-planner",
  "_planner",
  "1planner",
  "planner/",
  "x".repeat(100),
];

/** A valid lowercase RFC 9562 UUID (version 4, variant 10). */
export const SESSION: string = "3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60";

/** Attacks built around a valid session id. */
export const SESSION_ATTACKS: readonly string[] = [
  ...ATTACK_STRINGS,
  SESSION.toUpperCase(),
  SESSION.replace("3f2c", "3F2C"),
  `../${SESSION}`,
  `${SESSION}/..`,
  `/tmp/${SESSION}`,
  `${SESSION}\u0000`,
  `${SESSION}\n`,
  `${SESSION} `,
  `{${SESSION}}`,
  `urn:uuid:${SESSION}`,
  SESSION.replaceAll("-", ""),
  `${SESSION}0`,
  SESSION.slice(1),
];
