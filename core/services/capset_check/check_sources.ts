/**
 * `saoe capset check --sources DIR`: the CI check of the plaintext sources
 * reviewed in git (`vault/capsets/<agent>.json`, `vault/templates/<id>.json`),
 * before anything is signed. Each file is decoded strictly and must be named
 * for the agent or template it declares; then every agent's flags are derived
 * for a synthetic home (`/srv/saoe`) with the built-in tools' modules under the
 * repository root, and the structural checks of {@linkcode checkCapsets} run
 * with the templates' policies.
 *
 * It trusts nothing in DIR: a symlink, an oversized or undecodable file is a
 * finding, and nothing there is executed.
 *
 * @module
 */
import { join } from "node:path";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { homeLayout } from "../../domain/home/layout.ts";
import { parseTemplate, type Template } from "../../domain/vault/template_types.ts";
import { BUILTIN_TOOLS } from "../../domain/toolgate/builtin_tools.ts";
import type { ToolDefinition } from "../../domain/toolgate/manifest.ts";
import { type Capset, decodeCapsetSource } from "../../domain/capset/types.ts";
import { checkCapsets, type EdgePolicy } from "../../domain/capset/check.ts";
import {
  type CheckReport,
  checkReport,
  type FileFinding,
  findingFromError,
  NO_AGENT,
  placeFindings,
} from "./check_report.ts";

/** The home the sources' flags are derived for (the path only; nothing is read there). */
export const SYNTHETIC_HOME = "/srv/saoe";

/** Largest source file read, in bytes. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

/** Options for {@linkcode checkSources}. */
export interface CheckSourcesOptions {
  /** The sources folder holding `capsets/` and `templates/` (e.g. `vault/`). */
  dir: string;
  /** The repository root the tool modules lie under. */
  repo: string;
  /** The tool set; default the built-in tools. */
  tools?: readonly ToolDefinition[];
}

interface SourceFile {
  name: string;
  file: string;
  bytes: Uint8Array;
}

// the stand-in validity window of a source: the flags do not depend on it
const UNSIGNED_WINDOW = { issued_at: "2000-01-01T00:00:00Z", expires_at: "2000-01-01T00:00:00Z" };

async function readFolder(
  dir: string,
  findings: FileFinding[],
): Promise<SourceFile[]> {
  let entries: Deno.DirEntry[];
  try {
    const info = await Deno.lstat(dir);
    if (!info.isDirectory || info.isSymlink) {
      findings.push({
        file: dir,
        agent: NO_AGENT,
        reason: "unsafe_path",
        detail: "expected a real folder",
      });
      return [];
    }
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (err: unknown) {
    findings.push(findingFromError(err, dir, NO_AGENT));
    return [];
  }
  const out: SourceFile[] = [];
  const names = entries.map((e) => e.name).filter((n) => n.endsWith(".json")).sort();
  for (const name of names) {
    const file = join(dir, name);
    try {
      // a planted link would make CI review one file and init publish another
      const info = await Deno.lstat(file);
      if (!info.isFile || info.isSymlink) {
        findings.push({
          file,
          agent: NO_AGENT,
          reason: "unsafe_path",
          detail: "expected a regular file, not a symlink or folder",
        });
        continue;
      }
      if (info.size > MAX_SOURCE_BYTES) {
        findings.push({
          file,
          agent: NO_AGENT,
          reason: "size_exceeded",
          detail: `${info.size} bytes exceeds the limit of ${MAX_SOURCE_BYTES}`,
        });
        continue;
      }
      out.push({ name: name.slice(0, -".json".length), file, bytes: await Deno.readFile(file) });
    } catch (err: unknown) {
      findings.push(findingFromError(err, file, NO_AGENT));
    }
  }
  return out;
}

function decodeFinding(err: unknown, file: string, agent: string): FileFinding {
  const finding = findingFromError(err, file, agent);
  return { ...finding, reason: "decode_error", detail: `${finding.detail} (${finding.reason})` };
}

/**
 * Checks the capset and template sources under `options.dir`.
 *
 * @example
 * ```ts
 * import { checkSources } from "./check_sources.ts";
 * const repo = new URL("../../..", import.meta.url).pathname.replace(/\/$/, "");
 * const report = await checkSources({ dir: `${repo}/vault`, repo });
 * if (!report.ok) throw new Error(JSON.stringify(report.findings));
 * ```
 */
export async function checkSources(options: CheckSourcesOptions): Promise<CheckReport> {
  const findings: FileFinding[] = [];
  const capsetDir = join(options.dir, "capsets");
  const templateDir = join(options.dir, "templates");

  const capsets: Capset[] = [];
  const unverifiable = new Set<string>();
  const capsetFiles = new Map<string, string>();
  // a second file declaring an agent: its duplicate_agent finding lies there
  const duplicateFiles = new Map<string, string[]>();
  for (const src of await readFolder(capsetDir, findings)) {
    let capset: Capset;
    try {
      const source = decodeCapsetSource(
        parseStrictJson(src.bytes, { maxBytes: MAX_SOURCE_BYTES }),
        "$",
      );
      capset = { ...source, ...UNSIGNED_WINDOW };
    } catch (err: unknown) {
      findings.push(decodeFinding(err, src.file, src.name));
      unverifiable.add(src.name);
      continue;
    }
    if (capset.agent !== src.name) {
      findings.push({
        file: src.file,
        agent: capset.agent,
        reason: "name_mismatch",
        detail: `the file declares agent "${capset.agent}", expected "${src.name}"`,
      });
    }
    if (capsetFiles.has(capset.agent)) {
      duplicateFiles.set(capset.agent, [...duplicateFiles.get(capset.agent) ?? [], src.file]);
    } else {
      capsetFiles.set(capset.agent, src.file);
    }
    capsets.push(capset);
  }

  const templates: Template[] = [];
  const templateFiles = new Map<string, string>();
  for (const src of await readFolder(templateDir, findings)) {
    let template: Template;
    try {
      template = parseTemplate(src.bytes);
    } catch (err: unknown) {
      findings.push(decodeFinding(err, src.file, NO_AGENT));
      continue;
    }
    if (template.id !== src.name) {
      findings.push({
        file: src.file,
        agent: NO_AGENT,
        reason: "name_mismatch",
        detail: `the file declares template "${template.id}", expected "${src.name}"`,
      });
    }
    if (templateFiles.has(template.id)) continue;
    templateFiles.set(template.id, src.file);
    templates.push(template);
  }

  const tools = options.tools ?? BUILTIN_TOOLS;
  const toolModules: Record<string, string> = {};
  for (const tool of tools) toolModules[tool.name] = join(options.repo, tool.module);
  const policies = new Map<string, EdgePolicy>(templates.map((t) => [t.id, t.policy]));
  const structural = checkCapsets({
    capsets,
    templates: new Set(templateFiles.keys()),
    tools: new Set(tools.map((t) => t.name)),
    home: homeLayout(SYNTHETIC_HOME),
    toolModules,
    policies,
    unverifiable,
  });
  findings.push(...placeFindings(structural, {
    capsetFile: (agent, reason) =>
      (reason === "duplicate_agent" ? duplicateFiles.get(agent)?.shift() : undefined) ??
        capsetFiles.get(agent) ?? join(capsetDir, `${agent}.json`),
    templateFile: (id) => templateFiles.get(id) ?? join(templateDir, `${id}.json`),
  }));
  return checkReport(findings, { capsets: capsets.length, templates: templates.length });
}
