/**
 * Re-pins the built-in tools (`saoe publish --tools`): hashes the tool modules
 * of this checkout, compares them with the home's signed tool manifest, and
 * signs a new manifest version that names the new digests. This is how a home
 * created by an earlier checkout accepts an updated tool: until the dispatcher
 * signs its new bytes, ToolGate refuses every plan that uses it
 * (`tool_hash_mismatch`).
 *
 * {@linkcode prepareToolRepin} computes what would change and the digest the
 * operator confirms (the sha256 of the new tool list as JSON); it writes
 * nothing. {@linkcode applyToolRepin} signs and writes the manifest atomically.
 *
 * @module
 */
import { sha256Hex, utf8 } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { readTrustFile } from "../../domain/trust/files.ts";
import type { VerifiedRoot } from "../../domain/trust/chain.ts";
import { BUILTIN_TOOLS } from "../../domain/toolgate/builtin_tools.ts";
import {
  describeTool,
  MAX_TOOL_MANIFEST_BYTES,
  signToolManifest,
  type ToolEntry,
  verifyToolManifest,
} from "../../domain/toolgate/manifest.ts";
import { toolManifestPath } from "../../domain/vault/layout.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

/** How one tool differs between the signed manifest and this checkout. */
export interface ToolChange {
  name: string;
  module: string;
  /** sha256 the signed manifest names; null for a tool it does not list. */
  from: string | null;
  /** sha256 of this checkout's module; null for a tool no longer built in. */
  to: string | null;
  /** Other fields that differ (`args_schema`, `timeout_ms`, `module`). */
  fields: string[];
}

/** What {@linkcode prepareToolRepin} found. */
export interface ToolRepinPlan {
  /** Version of the signed manifest now. */
  previousVersion: number;
  /** Version the new manifest gets. */
  version: number;
  /** The new tool list, as it will be signed. */
  tools: ToolEntry[];
  /** Tools that differ; empty when the manifest already pins this checkout. */
  changes: ToolChange[];
  /** sha256 of the new tool list as JSON: what the operator types to confirm. */
  digest: string;
}

/** Options for {@linkcode prepareToolRepin}. */
export interface PrepareToolRepinOptions {
  home: HomeLayout;
  /** The repository whose tool modules are hashed. */
  repo: string;
  root: VerifiedRoot;
  clock: Clock;
  skewMs: number;
}

function differs(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) !== JSON.stringify(b);
}

/**
 * Verifies the home's tool manifest and compares it with this checkout's tools.
 *
 * @example
 * ```ts ignore
 * const plan = await prepareToolRepin({ home, repo, root, clock: systemClock, skewMs: 120_000 });
 * for (const c of plan.changes) console.log(c.name, c.from, "→", c.to);
 * ```
 */
export async function prepareToolRepin(options: PrepareToolRepinOptions): Promise<ToolRepinPlan> {
  const current = await verifyToolManifest(
    await readTrustFile(toolManifestPath(options.home.vault), MAX_TOOL_MANIFEST_BYTES),
    { dispatcher: options.root.trusted, clock: options.clock, skewMs: options.skewMs },
  );
  const tools: ToolEntry[] = [];
  for (const tool of BUILTIN_TOOLS) tools.push(await describeTool(options.repo, tool));
  const changes: ToolChange[] = [];
  for (const tool of tools) {
    const old = current.tools.find((t) => t.name === tool.name);
    const fields = old === undefined ? [] : (["module", "args_schema", "timeout_ms"] as const)
      .filter((f) => differs(old[f], tool[f]));
    if (old === undefined || old.sha256 !== tool.sha256 || fields.length > 0) {
      changes.push({
        name: tool.name,
        module: tool.module,
        from: old?.sha256 ?? null,
        to: tool.sha256,
        fields,
      });
    }
  }
  for (const old of current.tools) {
    if (!tools.some((t) => t.name === old.name)) {
      changes.push({ name: old.name, module: old.module, from: old.sha256, to: null, fields: [] });
    }
  }
  return {
    previousVersion: current.version,
    version: current.version + 1,
    tools,
    changes,
    digest: await sha256Hex(utf8(JSON.stringify(tools))),
  };
}

/** Options for {@linkcode applyToolRepin}. */
export interface ApplyToolRepinOptions {
  home: HomeLayout;
  plan: ToolRepinPlan;
  /** A threshold of the trust root's dispatcher keys. */
  signers: readonly SigningKey[];
  clock: Clock;
  /** Validity of the new manifest in days (`config.json` `validity.manifest_days`). */
  validityDays: number;
}

/**
 * Signs the planned manifest and writes it atomically; returns its expiry.
 *
 * @example
 * ```ts ignore
 * const { expiresAt } = await applyToolRepin({ home, plan, signers, clock, validityDays: 90 });
 * ```
 */
export async function applyToolRepin(
  options: ApplyToolRepinOptions,
): Promise<{ expiresAt: string; path: string }> {
  const issuedAt = options.clock.now();
  const validForMs = options.validityDays * DAY_MS;
  const bytes = await signToolManifest({
    version: options.plan.version,
    tools: options.plan.tools,
    signers: options.signers,
    issuedAt,
    validForMs,
  });
  const path = toolManifestPath(options.home.vault);
  await writeFileAtomic(path, bytes);
  return { expiresAt: formatTimestamp(issuedAt + validForMs), path };
}
