/**
 * The CI check over a whole set of capability sets (`saoe capset check`): every
 * capset must derive permissions without a forbidden grant, every edge must be
 * declared by both ends, every template an edge names must be in the agent's
 * vault scope, and every template and tool named must exist. Pure: the caller
 * verifies signatures and expiry and passes the decoded capsets.
 *
 * @module
 */
import { isSaoeError } from "../errors.ts";
import type { HomeLayout } from "../home/layout.ts";
import { capsetPermissions } from "./permissions.ts";
import type { Capset } from "./types.ts";

/** Why a set of capability sets fails the check. */
export type FindingReason =
  | "forbidden_grant"
  | "duplicate_agent"
  | "unknown_peer"
  | "edge_not_received"
  | "edge_not_sent"
  | "template_not_in_vault"
  | "unknown_template"
  | "unknown_tool";

/** One problem, naming the agent whose capset has it. */
export interface Finding {
  agent: string;
  reason: FindingReason;
  detail: string;
}

/** Inputs of {@linkcode checkCapsets}. */
export interface CheckCapsetsOptions {
  capsets: readonly Capset[];
  /** Template ids that exist in the vault. */
  templates: ReadonlySet<string>;
  /** Tool names in the tool manifest. */
  tools: ReadonlySet<string>;
  home: HomeLayout;
}

function edgeTemplates(
  capsets: ReadonlyMap<string, Capset>,
  agent: string,
  side: "sends" | "receives",
  peer: string,
): Set<string> {
  const capset = capsets.get(agent);
  const out = new Set<string>();
  if (capset === undefined) return out;
  if (side === "sends") {
    for (const s of capset.sends) if (s.to === peer) s.templates.forEach((t) => out.add(t));
  } else {
    for (const r of capset.receives) if (r.from === peer) r.templates.forEach((t) => out.add(t));
  }
  return out;
}

function checkOne(
  capset: Capset,
  byAgent: ReadonlyMap<string, Capset>,
  options: CheckCapsetsOptions,
): Finding[] {
  const agent = capset.agent;
  const findings: Finding[] = [];
  const add = (reason: FindingReason, detail: string) => findings.push({ agent, reason, detail });
  try {
    capsetPermissions(capset, options.home);
  } catch (err: unknown) {
    if (!isSaoeError(err, "forbidden_grant")) throw err;
    add("forbidden_grant", err.message);
  }
  const vault = new Set(capset.vault);
  for (const t of capset.vault) {
    if (!options.templates.has(t)) {
      add("unknown_template", `vault names template "${t}", which the vault does not hold`);
    }
  }
  for (const tool of capset.tools) {
    if (!options.tools.has(tool.name)) {
      add("unknown_tool", `tools names "${tool.name}", which the tool manifest does not list`);
    }
  }
  const edges = [
    ...capset.sends.map((s) => ({ side: "sends" as const, peer: s.to, templates: s.templates })),
    ...capset.receives.map((r) => ({
      side: "receives" as const,
      peer: r.from,
      templates: r.templates,
    })),
  ];
  for (const edge of edges) {
    const arrow = edge.side === "sends" ? `${agent} -> ${edge.peer}` : `${edge.peer} -> ${agent}`;
    for (const t of edge.templates) {
      if (!options.templates.has(t)) {
        add(
          "unknown_template",
          `edge ${arrow} names template "${t}", which the vault does not hold`,
        );
      } else if (!vault.has(t)) {
        add(
          "template_not_in_vault",
          `edge ${arrow} names template "${t}", which is not in this agent's vault`,
        );
      }
    }
    if (!byAgent.has(edge.peer)) {
      add("unknown_peer", `edge ${arrow} names agent "${edge.peer}", which has no capability set`);
      continue;
    }
    const other = edgeTemplates(
      byAgent,
      edge.peer,
      edge.side === "sends" ? "receives" : "sends",
      agent,
    );
    for (const t of edge.templates) {
      if (other.has(t)) continue;
      if (edge.side === "sends") {
        add(
          "edge_not_received",
          `edge ${arrow} with template "${t}" is not in the receives of "${edge.peer}"`,
        );
      } else {
        add(
          "edge_not_sent",
          `edge ${arrow} with template "${t}" is not in the sends of "${edge.peer}"`,
        );
      }
    }
  }
  return findings;
}

/**
 * Checks a set of capability sets for CI; an empty result means they pass.
 *
 * @example
 * ```ts
 * import { checkCapsets } from "./check.ts";
 * import { homeLayout } from "../home/layout.ts";
 * import type { Capset } from "./types.ts";
 * const viewer: Capset = {
 *   agent: "viewer", version: 1, receives: [], sends: [], tools: [], vault: [],
 *   fs: { read: ["output", "audit"], write: [] }, net: ["127.0.0.1:8080"],
 *   limits: { max_envelope_bytes: 65536, quota_per_minute: 60, max_inbox_depth: 100, max_quarantine: 100 },
 *   issued_at: "2026-01-01T00:00:00Z", expires_at: "2027-01-01T00:00:00Z",
 * };
 * const findings = checkCapsets({
 *   capsets: [viewer, viewer], templates: new Set(), tools: new Set(), home: homeLayout("/srv/saoe"),
 * });
 * if (findings.length !== 1 || findings[0]!.reason !== "duplicate_agent") throw new Error();
 * ```
 */
export function checkCapsets(options: CheckCapsetsOptions): Finding[] {
  const byAgent = new Map<string, Capset>();
  const findings: Finding[] = [];
  for (const capset of options.capsets) {
    if (byAgent.has(capset.agent)) {
      findings.push({
        agent: capset.agent,
        reason: "duplicate_agent",
        detail: `more than one capability set is given for agent "${capset.agent}"`,
      });
      continue;
    }
    byAgent.set(capset.agent, capset);
  }
  for (const capset of byAgent.values()) findings.push(...checkOne(capset, byAgent, options));
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return findings.sort((a, b) =>
    cmp(a.agent, b.agent) || cmp(a.reason, b.reason) || cmp(a.detail, b.detail)
  );
}
