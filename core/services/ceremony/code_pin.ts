/**
 * Pins the agents' code (docs/design.md section 12): `saoe init` signs the first
 * code manifest, `saoe publish --code` the next one after a typed hash. For each
 * agent it takes the graph of its entry module and of the tool modules its
 * capset runs (`core/domain/code/graph.ts`), hashes every file, and signs the
 * list with the dispatcher keys.
 *
 * {@linkcode prepareCodeRepin} computes what changed and the digest the
 * operator confirms (the sha256 of the new contents as JSON); it writes nothing.
 * {@linkcode applyCodePin} signs and writes the manifest atomically.
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex, utf8 } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { readTrustFile } from "../../domain/trust/files.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import { codeFiles } from "../../domain/code/graph.ts";
import {
  type CodeContents,
  describeCode,
  MAX_CODE_MANIFEST_BYTES,
  signCodeManifest,
  verifyCodeManifest,
} from "../../domain/code/manifest.ts";
import { codeManifestPath } from "../../domain/vault/layout.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

/** An agent and the modules of the tools its capset runs (repository-relative). */
export interface AgentCode {
  agent: string;
  toolModules: readonly string[];
}

/**
 * Each agent of `capsets` with the modules (from the signed tool manifest) of
 * the tools its capset names.
 *
 * @example
 * ```ts
 * import { agentCodeOf } from "./code_pin.ts";
 * const code = agentCodeOf(
 *   [{ agent: "text_formatter", tools: [{ name: "markdown_to_html" }] }],
 *   { tools: [{ name: "markdown_to_html", module: "core/domain/toolgate/tools/markdown_to_html.ts" }] },
 * );
 * if (code[0]?.toolModules[0] !== "core/domain/toolgate/tools/markdown_to_html.ts") throw new Error();
 * ```
 */
export function agentCodeOf(
  capsets: Iterable<{ agent: string; tools: readonly { name: string }[] }>,
  toolManifest: { tools: readonly { name: string; module: string }[] },
): AgentCode[] {
  return [...capsets].map((c) => ({
    agent: c.agent,
    toolModules: c.tools
      .map((t) => toolManifest.tools.find((e) => e.name === t.name)?.module)
      .filter((m): m is string => m !== undefined),
  }));
}

/**
 * Hashes the code of `agents` in the checkout at `repo`.
 *
 * @example
 * ```ts ignore
 * const contents = await describeAgentCode("/opt/saoe", [{ agent: "planner", toolModules: [] }]);
 * ```
 */
export async function describeAgentCode(
  repo: string,
  agents: readonly AgentCode[],
): Promise<CodeContents> {
  const byAgent = new Map<string, string[]>();
  for (const { agent, toolModules } of agents) {
    const entries = [join(repo, "agents", `${agent}.ts`), ...toolModules.map((m) => join(repo, m))];
    byAgent.set(agent, await codeFiles({ repo, entries }));
  }
  return await describeCode(repo, byAgent);
}

/** One file whose pin changes. */
export interface CodeChange {
  path: string;
  /** sha256 pinned now; null for a file not pinned yet. */
  from: string | null;
  /** sha256 in this checkout; null for a file no agent loads any more. */
  to: string | null;
}

/** What {@linkcode prepareCodeRepin} found. */
export interface CodeRepinPlan {
  previousVersion: number;
  version: number;
  contents: CodeContents;
  /** Files that differ, sorted by path; empty when the manifest already pins this checkout. */
  changes: CodeChange[];
  /** Agents whose file lists differ (a new import, a removed one). */
  agentsChanged: string[];
  /** sha256 of the new contents as JSON: what the operator types to confirm. */
  digest: string;
}

/**
 * Verifies the home's code manifest and compares it with this checkout.
 *
 * @example
 * ```ts ignore
 * const plan = await prepareCodeRepin({ home, repo, agents, dispatcher, clock, skewMs });
 * ```
 */
export async function prepareCodeRepin(options: {
  home: HomeLayout;
  repo: string;
  agents: readonly AgentCode[];
  dispatcher: TrustedKeySet;
  clock: Clock;
  skewMs: number;
}): Promise<CodeRepinPlan> {
  const current = await verifyCodeManifest(
    await readTrustFile(codeManifestPath(options.home.vault), MAX_CODE_MANIFEST_BYTES),
    { dispatcher: options.dispatcher, clock: options.clock, skewMs: options.skewMs },
  );
  const contents = await describeAgentCode(options.repo, options.agents);
  const before = new Map(current.files.map((f) => [f.path, f.sha256]));
  const after = new Map(contents.files.map((f) => [f.path, f.sha256]));
  const changes: CodeChange[] = [];
  for (const path of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const from = before.get(path) ?? null;
    const to = after.get(path) ?? null;
    if (from !== to) changes.push({ path, from, to });
  }
  const pathsOf = (files: { path: string }[], idx: readonly number[] | undefined) =>
    JSON.stringify((idx ?? []).map((i) => files[i]!.path));
  const agentsChanged = [
    ...new Set([...Object.keys(current.agents), ...Object.keys(contents.agents)]),
  ].filter((a) =>
    pathsOf(current.files, current.agents[a]) !== pathsOf(contents.files, contents.agents[a])
  ).sort();
  return {
    previousVersion: current.version,
    version: current.version + 1,
    contents,
    changes,
    agentsChanged,
    digest: await sha256Hex(utf8(JSON.stringify(contents))),
  };
}

/**
 * Signs a code manifest of `contents` and writes it atomically into the vault.
 *
 * @example
 * ```ts ignore
 * await applyCodePin({ home, version: 2, contents, signers, clock, validityDays: 90 });
 * ```
 */
export async function applyCodePin(options: {
  home: HomeLayout;
  version: number;
  contents: CodeContents;
  signers: readonly SigningKey[];
  clock: Clock;
  validityDays: number;
}): Promise<{ expiresAt: string; path: string }> {
  const issuedAt = options.clock.now();
  const validForMs = options.validityDays * DAY_MS;
  const bytes = await signCodeManifest({
    version: options.version,
    contents: options.contents,
    signers: options.signers,
    issuedAt,
    validForMs,
  });
  const path = codeManifestPath(options.home.vault);
  await writeFileAtomic(path, bytes, { mode: 0o644 });
  return { expiresAt: formatTimestamp(issuedAt + validForMs), path };
}
