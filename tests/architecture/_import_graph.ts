/**
 * The repository's import graph, as Deno itself resolves it: one `deno info
 * --json` over a module that imports every TypeScript file under the given
 * folders (static imports, re-exports, type imports and literal dynamic
 * imports; JSDoc examples are not part of it).
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root. */
export const REPO: string = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

/** One import: repository-relative paths of the importer and the imported file. */
export interface ImportEdge {
  from: string;
  to: string;
}

async function walk(dir: string, out: string[]): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) await walk(path, out);
    else if (entry.isFile && entry.name.endsWith(".ts")) out.push(path);
  }
}

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
}

/** Every import between local files under `folders` (repository-relative). */
export async function importEdges(folders: readonly string[]): Promise<ImportEdge[]> {
  const files: string[] = [];
  for (const folder of folders) await walk(join(REPO, folder), files);
  const tmp = await Deno.makeTempDir({ prefix: "saoe-graph-" });
  try {
    const aggregate = join(tmp, "all.ts");
    await Deno.writeTextFile(
      aggregate,
      files.map((f) => `import ${JSON.stringify(pathToFileURL(f).href)};\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", join(REPO, "deno.json"), aggregate],
      cwd: REPO,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    const local = (specifier: string | undefined): string | undefined =>
      specifier?.startsWith("file://") ? relative(REPO, fileURLToPath(specifier)) : undefined;
    const edges: ImportEdge[] = [];
    for (const module of info.modules) {
      const from = local(module.specifier);
      if (from === undefined || from.startsWith("..")) continue;
      for (const dep of module.dependencies ?? []) {
        for (const to of new Set([local(dep.code?.specifier), local(dep.type?.specifier)])) {
          if (to !== undefined && !to.startsWith("..")) edges.push({ from, to });
        }
      }
    }
    return edges;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}
