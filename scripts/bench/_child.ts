/**
 * Runs a measurement script as its own Deno process and returns the results it
 * prints. The bench task runs without network or `--unstable-worker-options`;
 * the pipeline measurements need loopback network (intake) and `/proc/<pid>/`
 * of the agents (Deno grants `/proc` reads only with `--allow-all`), and the
 * tool measurements need Workers with `deno.permissions`, so they run in a
 * child with those rights. The child's stderr (progress) is passed through; its
 * last stdout line is the JSON array of {@linkcode BenchResult}s.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { REPO } from "./_pipeline.ts";
import type { BenchResult } from "./types.ts";

/** Permission flags of a measurement child. */
export const CHILD_FLAGS: readonly string[] = [
  "--no-prompt",
  "--frozen",
  "--cached-only",
  "--unstable-worker-options",
  // reading another process's /proc/<pid>/stat needs all permissions in Deno
  "--allow-all",
];

/** Runs `script` (a URL of a module next to this one) with `args` and returns its results. */
export async function runMeasureChild(script: URL, args: string[]): Promise<BenchResult[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...CHILD_FLAGS, fileURLToPath(script), ...args],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  if (!out.success) {
    throw new Error(`${fileURLToPath(script)} failed with exit code ${out.code}`);
  }
  return JSON.parse(lines.at(-1) ?? "[]") as BenchResult[];
}
