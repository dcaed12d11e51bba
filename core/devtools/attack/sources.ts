/**
 * A private copy of the repository's reviewed `vault/` sources with edits, for
 * the homes `saoe attack` creates: intake and the viewer on free loopback ports
 * (so an attack run never collides with a pipeline on 8090/8080), and whatever
 * a scratch home needs changed before `init`.
 *
 * @module
 */
import { join } from "node:path";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";

/** A loopback port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Options for {@linkcode copyVaultSources}. */
export interface CopySourcesOptions {
  repo: string;
  /** Capset source edits by agent, applied to the parsed JSON. */
  capsetEdits?: Readonly<Record<string, (source: JsonObject) => void>>;
}

/**
 * Copies `<repo>/vault/{capsets,templates}/*.json` into a new temp folder, with
 * intake and the viewer moved to free ports and `capsetEdits` applied; returns
 * the folder (the caller removes it).
 */
export async function copyVaultSources(options: CopySourcesOptions): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "saoe-attack-sources-" });
  const ports: Record<string, number> = { intake: freePort(), viewer: freePort() };
  for (const sub of ["capsets", "templates"]) {
    await Deno.mkdir(join(dir, sub));
    for await (const entry of Deno.readDir(join(options.repo, "vault", sub))) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      let text = await Deno.readTextFile(join(options.repo, "vault", sub, entry.name));
      if (sub === "capsets") {
        const name = entry.name.slice(0, -".json".length);
        const source = JSON.parse(text) as JsonObject;
        if (ports[name] !== undefined) source.net = [`127.0.0.1:${ports[name]}`];
        options.capsetEdits?.[name]?.(source);
        text = JSON.stringify(source, null, 2);
      }
      await Deno.writeTextFile(join(dir, sub, entry.name), text);
    }
  }
  return dir;
}
