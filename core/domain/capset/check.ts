/**
 * The CI check over a whole set of capability sets (`saoe capset check`): every
 * capset must derive permissions without a forbidden grant (the capset → flags
 * function refuses reading another agent's inbox or state, keys, config, and
 * writing the vault, trust root or ledger), every edge must be declared by both
 * ends and allowed by its template's policy, every template an edge names must
 * be in the agent's vault scope, and every template and tool named must exist.
 * Pure: the caller verifies signatures and expiry (or decodes the reviewed
 * sources) and passes the decoded capsets, template ids and policies.
 *
 * @module
 */
import { isSaoeError } from "../../primitives/errors.ts";
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
  | "unknown_tool"
  | "policy_contradiction";

/** One problem, naming the agent whose capset has it. */
export interface Finding {
  agent: string;
  reason: FindingReason;
  detail: string;
  /** Set when the problem lies in a template's own content (its policy), not in the capset. */
  template?: string;
}

/** The part of a template's policy an edge must satisfy. */
export interface EdgePolicy {
  allowed_senders: readonly string[];
  allowed_receivers: readonly string[];
}

/** Inputs of {@linkcode checkCapsets}. */
export interface CheckCapsetsOptions {
  capsets: readonly Capset[];
  /** Template ids that exist in the vault. */
  templates: ReadonlySet<string>;
  /** Tool names in the tool manifest. */
  tools: ReadonlySet<string>;
  home: HomeLayout;
  /**
   * Absolute tool module paths by tool name (as the supervisor passes them), so
   * the forbidden-grant check sees the exact grants an agent would get.
   */
  toolModules?: Readonly<Record<string, string>>;
  /**
   * Template policies by template id; when given, every edge (from a `sends` or a
   * `receives`) is checked against its template's allowed senders and receivers.
   */
  policies?: ReadonlyMap<string, EdgePolicy>;
  /**
   * Agents whose capset exists but could not be decoded or verified (reported
   * on its own): edges to them are not judged, so one bad file gives one finding.
   */
  unverifiable?: ReadonlySet<string>;
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
    capsetPermissions(
      capset,
      options.home,
      options.toolModules === undefined ? {} : { toolModules: options.toolModules },
    );
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
      if (options.unverifiable?.has(edge.peer)) continue;
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

// every edge once, whichever end declares it: the validator checks the policy of
// an envelope's template against the real sender and receiver, so an edge the
// policy refuses is a capset grant that can never be used (or a policy too tight)
function checkPolicies(
  byAgent: ReadonlyMap<string, Capset>,
  policies: ReadonlyMap<string, EdgePolicy>,
): Finding[] {
  const edges = new Map<string, { from: string; to: string; template: string }>();
  const addEdge = (from: string, to: string, template: string) =>
    edges.set(JSON.stringify([from, to, template]), { from, to, template });
  for (const capset of byAgent.values()) {
    for (const s of capset.sends) s.templates.forEach((t) => addEdge(capset.agent, s.to, t));
    for (const r of capset.receives) r.templates.forEach((t) => addEdge(r.from, capset.agent, t));
  }
  const findings: Finding[] = [];
  for (const { from, to, template } of edges.values()) {
    const policy = policies.get(template);
    if (policy === undefined) continue;
    const arrow = `edge ${from} -> ${to} with template "${template}"`;
    if (!policy.allowed_senders.includes(from)) {
      findings.push({
        agent: from,
        reason: "policy_contradiction",
        template,
        detail: `${arrow} is refused by the template's policy: allowed_senders is [${
          policy.allowed_senders.join(", ")
        }]`,
      });
    }
    if (!policy.allowed_receivers.includes(to)) {
      findings.push({
        agent: to,
        reason: "policy_contradiction",
        template,
        detail: `${arrow} is refused by the template's policy: allowed_receivers is [${
          policy.allowed_receivers.join(", ")
        }]`,
      });
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
  if (options.policies !== undefined) findings.push(...checkPolicies(byAgent, options.policies));
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return findings.sort((a, b) =>
    cmp(a.agent, b.agent) || cmp(a.reason, b.reason) || cmp(a.detail, b.detail)
  );
}
