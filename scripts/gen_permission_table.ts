/**
 * Generates the per-agent permission table of `docs/architecture.md` from the
 * capability sets, through the same code path as `saoe capset explain`: a real
 * home is created from the repository's `vault/` sources (`initHome`), each
 * capset is decrypted and verified by the supervisor's `preflight()`, and the
 * flags come from `agentCommand()` (the supervisor's function), laid out for a home at
 * `/srv/saoe` and a repository at `/opt/saoe` so the table does not depend on
 * the machine that generated it.
 *
 * ```sh
 * ./scripts/deno run --allow-read --allow-write --allow-run --allow-sys=uid scripts/gen_permission_table.ts          # print
 * # update the doc (then formats it with deno fmt):
 * ./scripts/deno run --allow-read --allow-write --allow-run --allow-sys=uid scripts/gen_permission_table.ts --write
 * ./scripts/deno run --allow-read --allow-write --allow-run --allow-sys=uid scripts/gen_permission_table.ts --check  # exit 1 if stale
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { initHome } from "../core/services/ceremony/init_home.ts";
import { homeLayout } from "../core/domain/home/layout.ts";
import type { Grant } from "../core/domain/capset/permissions.ts";
import { systemClock } from "../core/primitives/time/clock.ts";
import { commandFor, verifyAsSupervisor } from "../core/services/supervisor/agent_commands.ts";
import { repoRoot } from "../cli/_support/repo.ts";

/** The home the table is laid out for. */
export const DOC_HOME = "/srv/saoe";
/** The repository path the table is laid out for (tool modules are read from it). */
export const DOC_REPO = "/opt/saoe";
/** Marks the start of the generated section in the doc. */
export const BEGIN_MARK =
  "<!-- BEGIN GENERATED PERMISSION TABLE (scripts/gen_permission_table.ts; do not edit by hand) -->";
/** Marks the end of the generated section in the doc. */
export const END_MARK = "<!-- END GENERATED PERMISSION TABLE -->";
/** The doc the table lives in. */
export const DOC_PATH: string = join(repoRoot(), "docs", "architecture.md");

function cell(grants: readonly Grant[], flag: Grant["flag"]): string {
  const byValue = new Map<string, string[]>();
  for (const g of grants.filter((g) => g.flag === flag)) {
    byValue.set(g.value, [...(byValue.get(g.value) ?? []), g.source]);
  }
  if (byValue.size === 0) return "—";
  return [...byValue].map(([value, sources]) => `\`${value}\` (${sources.join("; ")})`).join(
    "<br>",
  );
}

/**
 * The generated markdown (without the markers): one row per agent with what it
 * may read, write and reach on the network, each with the capset field behind it.
 *
 * @example
 * ```ts ignore
 * const table = await permissionTable();
 * ```
 */
export async function permissionTable(): Promise<string> {
  const tmp = await Deno.makeTempDir({ prefix: "saoe-permtable-" });
  try {
    const repo = repoRoot();
    const created = await initHome({
      home: join(tmp, "home"),
      sources: join(repo, "vault"),
      repo,
      clock: systemClock,
    });
    const { home, config } = created;
    const { capsets, toolManifest } = await verifyAsSupervisor({
      home,
      config,
      clock: systemClock,
      repo,
    });
    const docHome = homeLayout(DOC_HOME);
    const rows = config.agents.map((agent) => {
      const cmd = commandFor({
        capset: capsets.get(agent)!,
        toolManifest,
        home: docHome,
        repo: DOC_REPO,
        deno: "/usr/local/bin/deno",
      });
      const net = cmd.grants.some((g) => g.flag === "allow-net")
        ? cell(cmd.grants, "allow-net")
        : "none (`--deny-net`)";
      const other = cmd.flags.filter((f) =>
        !f.startsWith("--allow-read=") && !f.startsWith("--allow-write=") &&
        !f.startsWith("--allow-net=") && f !== "--deny-net"
      ).map((f) => `\`${f}\``).join(" ");
      const l = cmd.sandbox.limits;
      const sandbox = `${
        cmd.sandbox.network === "host" ? "host network" : "own empty network"
      }; ${l.memory_mib} MiB, ${l.open_files} files, ${l.processes} processes, ${l.file_size_mib} MiB/file`;
      return `| **${agent}** | ${cell(cmd.grants, "allow-read")} | ${
        cell(cmd.grants, "allow-write")
      } | ${net} | ${other} | ${sandbox} |`;
    });
    return [
      `Home \`${DOC_HOME}\`, repository \`${DOC_REPO}\`. Each path names the capset field that`,
      "grants it: `trust` and `identity` every agent gets; `receives[i].from=X` and",
      "`sends[i].to=X` a peer's capset and the one inbox folder it may write at X;",
      "`vault[i]=T` a template it may decrypt; `fs.read`/`fs.write` a shared folder; `tools[i]` a",
      "signed tool module ToolGate hashes before loading; `net[i]` a loopback port. Every agent",
      "also runs with `--no-prompt --cached-only --frozen` and a V8 heap limit.",
      "",
      "The same grants are its bubblewrap sandbox: every path of `write` is bound read-write, every",
      "other path of `read` read-only, the code (`agents/`, `core/`, `node_modules/`, `deno.json`,",
      "`deno.lock`, the Deno executable) read-only, and nothing else of the file system exists",
      "inside; the last column is its network namespace and kernel limits (`saoe capset explain`",
      "prints the binds one by one).",
      "",
      "| agent | read | write | net | also | sandbox |",
      "|---|---|---|---|---|---|",
      ...rows,
    ].join("\n");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/**
 * Returns `doc` with the text between the markers replaced by `table`; throws
 * when the markers are missing.
 *
 * @example
 * ```ts
 * import { BEGIN_MARK, END_MARK, replaceGenerated } from "./gen_permission_table.ts";
 * const doc = `a\n${BEGIN_MARK}\nold\n${END_MARK}\nb\n`;
 * if (!replaceGenerated(doc, "new").includes(`${BEGIN_MARK}\nnew\n${END_MARK}`)) throw new Error();
 * ```
 */
export function replaceGenerated(doc: string, table: string): string {
  const start = doc.indexOf(BEGIN_MARK);
  const end = doc.indexOf(END_MARK);
  if (start < 0 || end < start) {
    throw new Error(`The doc has no generated permission table section (${BEGIN_MARK})`);
  }
  return `${doc.slice(0, start)}${BEGIN_MARK}\n${table}\n${doc.slice(end)}`;
}

/**
 * The layout-free form of markdown used to compare the doc with a fresh table:
 * `deno fmt` re-wraps paragraphs and pads table columns, neither of which changes
 * what the table says.
 *
 * @example
 * ```ts
 * import { canonical } from "./gen_permission_table.ts";
 * if (canonical("| a | b |\n|---|---|") !== canonical("| a   | b   |\n| --- | --- |")) {
 *   throw new Error();
 * }
 * ```
 */
export function canonical(markdown: string): string {
  return markdown.replace(/\s+/g, "").replace(/-{3,}/g, "---");
}

/** The generated section of `doc` as it stands (between the markers), or undefined. */
export function currentGenerated(doc: string): string | undefined {
  const start = doc.indexOf(BEGIN_MARK);
  const end = doc.indexOf(END_MARK);
  if (start < 0 || end < start) return undefined;
  return doc.slice(start + BEGIN_MARK.length, end).replace(/^\n/, "").replace(/\n$/, "");
}

if (import.meta.main) {
  const table = await permissionTable();
  if (Deno.args.includes("--write")) {
    const doc = await Deno.readTextFile(DOC_PATH);
    await Deno.writeTextFile(DOC_PATH, replaceGenerated(doc, table));
    // lay the doc out as `deno task check` expects (fmt --check)
    const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", DOC_PATH] })
      .output();
    if (!fmt.success) console.error(`deno fmt ${DOC_PATH} failed; run it by hand`);
    console.log(`Updated the permission table in ${DOC_PATH}`);
  } else if (Deno.args.includes("--check")) {
    const current = currentGenerated(await Deno.readTextFile(DOC_PATH));
    if (current === undefined || canonical(current) !== canonical(table)) {
      console.error(
        `${DOC_PATH}: the permission table is stale; run scripts/gen_permission_table.ts --write`,
      );
      Deno.exit(1);
    }
    console.log("The permission table is up to date");
  } else {
    console.log(table);
  }
}
