/**
 * Reading a tool module file from the repository, refusing anything that is not
 * the regular file its repo-relative path names.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";

/** Largest tool module file read, in bytes. */
export const MAX_TOOL_MODULE_BYTES = 1024 * 1024;

const MODULE_PATH_RE = /^[a-z0-9_]+(?:\/[a-z0-9_]+)*\.ts$/;

/**
 * Reads `module` (repo-relative) under `repoRoot`. A symlink anywhere on the path
 * is refused (`unsafe_path`): a planted link would make the hash check read a
 * file outside the repository; a missing or unreadable file is `io_error`.
 *
 * @example
 * ```ts
 * import { readToolModule } from "./module_file.ts";
 * const root = new URL("../../..", import.meta.url).pathname;
 * const bytes = await readToolModule(root, "core/domain/toolgate/tools/markdown_to_html.ts");
 * if (bytes.byteLength === 0) throw new Error();
 * ```
 */
export async function readToolModule(
  repoRoot: string,
  module: string,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!MODULE_PATH_RE.test(module)) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot load tool module ${JSON.stringify(module)}: not a repo-relative .ts path`,
    );
  }
  const path = join(repoRoot, module);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile || info.isSymlink || info.size > MAX_TOOL_MODULE_BYTES) {
      throw new SaoeError(
        "unsafe_path",
        `Cannot load tool module ${module}: not a regular file of at most ${MAX_TOOL_MODULE_BYTES} bytes`,
      );
    }
    // a symlinked folder on the way is invisible to lstat of the file itself; the
    // repo root must already be real (the supervisor resolves it): the agent may
    // read its tool modules only, not the repository folder
    if (await Deno.realPath(path) !== path) {
      throw new SaoeError(
        "unsafe_path",
        `Cannot load tool module ${module}: its path goes through a symlink`,
      );
    }
    bytes = await Deno.readFile(path);
  } catch (err: unknown) {
    if (err instanceof SaoeError) throw err;
    throw new SaoeError(
      "io_error",
      `Cannot load tool module ${module}: ${err instanceof Error ? err.message : "read failed"}`,
    );
  }
  if (bytes.byteLength > MAX_TOOL_MODULE_BYTES) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot load tool module ${module}: larger than ${MAX_TOOL_MODULE_BYTES} bytes`,
    );
  }
  return bytes;
}
