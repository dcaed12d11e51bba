/**
 * Where the SAOE repository is: the folder holding `cli/`, `agents/` and the
 * reviewed `vault/` sources. Derived from this module's own URL, so it never
 * depends on the working directory or the environment.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/**
 * The absolute repository root (no trailing slash).
 *
 * @example
 * ```ts
 * import { repoRoot } from "./repo.ts";
 * if (!repoRoot().startsWith("/")) throw new Error();
 * ```
 */
export function repoRoot(): string {
  return fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
}

/** `<repo>/vault`: the plaintext template and capset sources `saoe init` publishes. */
export function vaultSources(): string {
  return join(repoRoot(), "vault");
}
