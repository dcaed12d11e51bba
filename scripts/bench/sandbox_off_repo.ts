/**
 * The sandbox-cost baseline's code: a scratch copy of the repository whose
 * agents run with the Deno permission layer alone (the OS sandbox rendered to
 * nothing). The production supervisor has no such mode; the benchmark builds
 * one here, from outside, with one source edit in the copy, as the
 * defence-off tests do.
 *
 * @module
 */
import { join } from "node:path";
import { copyRepository } from "../../core/devtools/attack/repo_copy.ts";

const FILE = "core/services/supervisor/sandbox_argv.ts";
const FROM = "  const { spec, host, identity } = options;\n";
const TO = `${FROM}  if (spec !== undefined) return [...options.inner];\n`;

/** Copies `repo` with the OS sandbox off and returns the copy's real path (the caller removes it). */
export async function sandboxOffRepository(repo: string): Promise<string> {
  const copy = await copyRepository(repo);
  const path = join(copy, FILE);
  const source = await Deno.readTextFile(path);
  if (source.split(FROM).length !== 2) {
    await Deno.remove(copy, { recursive: true });
    throw new Error(`${FILE} changed: the sandbox-off baseline cannot be built`);
  }
  await Deno.writeTextFile(path, source.replace(FROM, TO));
  return copy;
}
