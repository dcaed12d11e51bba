/**
 * A private copy of the repository's reviewed `vault/` sources with edits, for
 * the homes `saoe attack` creates: intake and the viewer on ports the operating
 * system assigns (`127.0.0.1:0`, so an attack run never collides with a
 * pipeline on 8090/8080), and whatever a scratch home needs changed before
 * `init`.
 *
 * @module
 */
import { join } from "node:path";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";

/** Options for {@linkcode copyVaultSources}. */
export interface CopySourcesOptions {
  repo: string;
  /** Capset source edits by agent, applied to the parsed JSON. */
  capsetEdits?: Readonly<Record<string, (source: JsonObject) => void>>;
}

/**
 * Copies `<repo>/vault/{capsets,templates}/*.json` into a new temp folder, with
 * intake and the viewer on assigned ports and `capsetEdits` applied; returns
 * the folder (the caller removes it).
 */
export async function copyVaultSources(options: CopySourcesOptions): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "saoe-attack-sources-" });
  const assigned = ["intake", "viewer"];
  for (const sub of ["capsets", "templates"]) {
    await Deno.mkdir(join(dir, sub));
    for await (const entry of Deno.readDir(join(options.repo, "vault", sub))) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      let text = await Deno.readTextFile(join(options.repo, "vault", sub, entry.name));
      if (sub === "capsets") {
        const name = entry.name.slice(0, -".json".length);
        const source = JSON.parse(text) as JsonObject;
        if (assigned.includes(name)) source.net = ["127.0.0.1:0"];
        options.capsetEdits?.[name]?.(source);
        text = JSON.stringify(source, null, 2);
      }
      await Deno.writeTextFile(join(dir, sub, entry.name), text);
    }
  }
  return dir;
}
