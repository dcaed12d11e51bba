/**
 * `lstat` that answers `null` for a missing path: the one place the file
 * modules tell "not there" from every other error (which still throws).
 *
 * @module
 */

/**
 * The path's own metadata (a link is not followed), or `null` when it does not exist.
 *
 * @example
 * ```ts
 * import { lstatOrNull } from "./lstat_or_null.ts";
 * if (await lstatOrNull("/no/such/path") !== null) throw new Error();
 * ```
 */
export async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}
