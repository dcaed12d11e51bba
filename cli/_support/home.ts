/**
 * Opening a home for an operator command: its layout and its strictly decoded
 * `config.json`, with one clear message when there is no initialised home there.
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { type HomeLayout, homeLayout } from "../../core/domain/home/layout.ts";
import { type HomeConfig, readHomeConfig } from "../../core/domain/home/config.ts";

/** An opened home. */
export interface OpenedHome {
  home: HomeLayout;
  config: HomeConfig;
}

/**
 * Opens the home at `root` (made absolute); throws `bad_config` naming the folder
 * and the fix when it has no `config.json`.
 *
 * @example
 * ```ts
 * import { openHome } from "./home.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await openHome(dir);
 *   throw new Error("expected a refusal");
 * } catch (err) {
 *   if ((err as { code?: string }).code !== "bad_config") throw err;
 * }
 * await Deno.remove(dir);
 * ```
 */
export async function openHome(root: string): Promise<OpenedHome> {
  const home = homeLayout(root);
  const present = await Deno.lstat(home.config).then(() => true, () => false);
  if (!present) {
    throw new SaoeError(
      "bad_config",
      `No SAOE home at ${home.root}: config.json is missing (create one with "saoe init --home ${home.root}", or pass the right --home)`,
    );
  }
  return { home, config: await readHomeConfig(home.config) };
}
