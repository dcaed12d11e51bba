/**
 * The one pure function from a verified capability set and the home layout to
 * the exact Deno permission flags of an agent (docs/design.md sections 1, 4 and 5)
 * and, from the same grants, its operating-system sandbox: bind mounts, network
 * and kernel limits (section 12, `sandbox_spec.ts`). The supervisor spawns with
 * its result, `saoe capset explain` prints it and `saoe capset check` refuses
 * any capset for which it throws.
 *
 * It derives each grant from a named capset field, then checks its own output
 * with an independent classifier (`_grant_check.ts`) and throws
 * `forbidden_grant` rather than return a flag set that would let an agent write
 * the vault, trust root, key store or ledger, read keys or config, reach
 * another agent's inbox or state, leave the home, or listen off loopback. It
 * never emits `--allow-run`, `--allow-ffi`, `--allow-sys`, `--allow-env`,
 * `--allow-import` or `--allow-all`: only the forms `isAllowedFlag` accepts.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { type HomeLayout, homeLayout, SHARED_FS_ROOTS } from "../home/layout.ts";
import { agentDir, inboxFromDir } from "../home/layout.ts";
import { AGENT_ID_RE, TEMPLATE_ID_RE } from "../../primitives/ids/patterns.ts";
import { capsetPath, templateDir, toolManifestPath } from "../vault/layout.ts";
import {
  type GrantContext,
  isAllowedFlag,
  netGrantProblem,
  pathGrantProblem,
  pathShapeProblem,
} from "./_grant_check.ts";
import type { Capset } from "./types.ts";
import { renderSandbox, type SandboxSpec } from "./sandbox_spec.ts";

/** The permission a grant contributes to. */
export type GrantFlag =
  | "allow-read"
  | "allow-write"
  | "allow-net"
  | "deny-net"
  | "deny-env"
  | "deny-run"
  | "deny-ffi"
  | "deny-sys";

/** One permission and the capset field that produced it (what `capset explain` prints). */
export interface Grant {
  flag: GrantFlag;
  /** An absolute path, a `127.0.0.1:PORT` address, or `""` for a deny flag. */
  value: string;
  /** The capset field behind it, e.g. `sends[0].to=planner`, `fs.read[0]=uploads`, `identity`. */
  source: string;
}

/** The flags an agent runs with, its sandbox, and the grants behind both. */
export interface CapsetPermissions {
  /** Flags in a fixed order, to place between `deno run --no-prompt …` and the script. */
  flags: string[];
  /** Every grant, deduplicated and sorted by flag, value and source. */
  grants: Grant[];
  /** The same grants as the operating-system sandbox: binds, network, limits. */
  sandbox: SandboxSpec;
}

/** Options for {@linkcode capsetPermissions}. */
export interface CapsetPermissionOptions {
  /**
   * The agent runs tools through ToolGate in no-permission Workers, which needs
   * `--unstable-worker-options` (it only lets a Worker narrow its permissions).
   * Default: true exactly when the capset names a tool.
   */
  toolgateHost?: boolean;
  /**
   * Absolute paths of the tool modules (from the verified, dispatcher-signed tool
   * manifest) of the tools this capset names, by tool name. ToolGate hashes each
   * module before loading it, so the agent must read exactly these files and no
   * other file outside the home.
   */
  toolModules?: Readonly<Record<string, string>>;
  /**
   * Absolute paths of the code the agent runs (the Deno executable, its modules,
   * the npm files), bound read-only into its sandbox; none may overlap the home.
   */
  codePaths?: readonly string[];
}

/** Flags every agent gets, whatever its capset says. */
export const ALWAYS_DENIED = ["--deny-env", "--deny-run", "--deny-ffi", "--deny-sys"] as const;

/** Lets a ToolGate host start Workers with `deno: { permissions: "none" }`. */
export const WORKER_OPTIONS_FLAG = "--unstable-worker-options";

const FLAG_ORDER: readonly GrantFlag[] = [
  "allow-read",
  "allow-write",
  "allow-net",
  "deny-net",
  "deny-env",
  "deny-run",
  "deny-ffi",
  "deny-sys",
];

function refuse(agent: string, message: string): SaoeError {
  return new SaoeError(
    "forbidden_grant",
    `Cannot grant permissions to agent ${JSON.stringify(String(agent).slice(0, 80))}: ${message}`,
    { agent: String(agent).slice(0, 80) },
  );
}

function list(agent: string, value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw refuse(agent, `${field} is not a list`);
  return value;
}

function id(agent: string, value: unknown, pattern: RegExp, field: string): string {
  if (typeof value !== "string" || !pattern.test(value)) {
    throw refuse(
      agent,
      `${field} ${JSON.stringify(String(value).slice(0, 80))} is not a valid identifier`,
    );
  }
  return value;
}

// the home must be exactly the layout homeLayout() builds: a hand-made layout
// pointing `vault` at /etc would otherwise pass every containment check
function checkHome(agent: string, home: HomeLayout): void {
  const shape = pathShapeProblem(home.root);
  if (shape !== undefined) {
    throw refuse(agent, `home ${JSON.stringify(String(home.root).slice(0, 200))} ${shape}`);
  }
  const expected = homeLayout(home.root);
  for (const key of Object.keys(expected) as (keyof HomeLayout)[]) {
    if (home[key] !== expected[key]) {
      throw refuse(
        agent,
        `home layout field ${key} is ${JSON.stringify(home[key])}, expected ${expected[key]}`,
      );
    }
  }
}

class Grants {
  readonly #seen = new Set<string>();
  readonly items: Grant[] = [];
  add(flag: GrantFlag, value: string, source: string): void {
    const key = JSON.stringify([flag, value, source]);
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.items.push({ flag, value, source });
  }
}

function derive(
  capset: Capset,
  home: HomeLayout,
  agent: string,
  toolModules: Readonly<Record<string, string>>,
): Grants {
  const g = new Grants();
  const fs = capset.fs as unknown;
  if (fs === null || typeof fs !== "object") throw refuse(agent, "fs is not an object");
  const reads = list(agent, capset.fs.read, "fs.read");
  const writes = list(agent, capset.fs.write, "fs.write");

  g.add("allow-read", home.trust, "trust");
  g.add("allow-read", capsetPath(home.vault, agent), "identity");
  // the agent's own folder holds its inbox (agents/<me>/inbox/): one grant, one mount
  g.add("allow-read", agentDir(home, agent), "identity");
  g.add("allow-write", agentDir(home, agent), "identity");

  list(agent, capset.vault, "vault").forEach((t, i) => {
    const template = id(agent, t, TEMPLATE_ID_RE, `vault[${i}]`);
    g.add("allow-read", templateDir(home.vault, template), `vault[${i}]=${template}`);
  });
  list(agent, capset.receives, "receives").forEach((r, i) => {
    const from = id(agent, (r as { from?: unknown })?.from, AGENT_ID_RE, `receives[${i}].from`);
    // the receiver checks each edge against the sender's capset too
    g.add("allow-read", capsetPath(home.vault, from), `receives[${i}].from=${from}`);
  });
  list(agent, capset.sends, "sends").forEach((s, i) => {
    const to = id(agent, (s as { to?: unknown })?.to, AGENT_ID_RE, `sends[${i}].to`);
    const source = `sends[${i}].to=${to}`;
    g.add("allow-read", capsetPath(home.vault, to), source);
    // Deno.rename needs read and write on the source: temp file + rename inside this folder
    g.add("allow-read", inboxFromDir(home, to, agent), source);
    g.add("allow-write", inboxFromDir(home, to, agent), source);
  });
  const tools = list(agent, capset.tools, "tools");
  if (tools.length > 0) g.add("allow-read", toolManifestPath(home.vault), "tools");
  tools.forEach((t, i) => {
    const name = String((t as { name?: unknown })?.name);
    const module = Object.hasOwn(toolModules, name) ? toolModules[name] : undefined;
    if (module !== undefined) g.add("allow-read", module, `tools[${i}]=${name}`);
  });
  reads.forEach((r, i) => {
    const root = sharedRoot(agent, r, `fs.read[${i}]`);
    g.add("allow-read", home[root], `fs.read[${i}]=${root}`);
  });
  writes.forEach((w, i) => {
    const root = sharedRoot(agent, w, `fs.write[${i}]`);
    if (root === "audit") {
      throw refuse(agent, "fs.write names audit (the supervisor is its single writer)");
    }
    // atomic publish renames a temp file inside the root: read is needed too
    g.add("allow-read", home[root], `fs.write[${i}]=${root}`);
    g.add("allow-write", home[root], `fs.write[${i}]=${root}`);
  });
  const net = list(agent, capset.net, "net");
  net.forEach((address, i) => {
    const problem = netGrantProblem(address as string);
    if (problem !== undefined) {
      throw refuse(agent, `net[${i}] ${JSON.stringify(String(address).slice(0, 80))} ${problem}`);
    }
    g.add("allow-net", address as string, `net[${i}]=${address as string}`);
  });
  if (net.length === 0) g.add("deny-net", "", "net=[]");
  for (const flag of ["deny-env", "deny-run", "deny-ffi", "deny-sys"] as const) {
    g.add(flag, "", "default-deny");
  }
  return g;
}

function sharedRoot(
  agent: string,
  value: unknown,
  field: string,
): typeof SHARED_FS_ROOTS[number] {
  if (typeof value !== "string" || !(SHARED_FS_ROOTS as readonly string[]).includes(value)) {
    throw refuse(
      agent,
      `${field} ${JSON.stringify(String(value).slice(0, 80))} is not one of ${
        SHARED_FS_ROOTS.join(", ")
      }`,
    );
  }
  return value as typeof SHARED_FS_ROOTS[number];
}

function checkOwnOutput(grants: readonly Grant[], ctx: GrantContext): void {
  for (const grant of grants) {
    let problem: string | undefined;
    if (grant.flag === "allow-read" || grant.flag === "allow-write") {
      problem = pathGrantProblem(grant.value, grant.flag === "allow-read" ? "read" : "write", ctx);
    } else if (grant.flag === "allow-net") {
      problem = netGrantProblem(grant.value);
    }
    if (problem !== undefined) {
      throw refuse(
        ctx.agent,
        `${grant.flag} ${JSON.stringify(grant.value)} (from ${grant.source}) ${problem}`,
      );
    }
  }
}

function sortGrants(grants: Grant[]): Grant[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return grants.sort((a, b) =>
    FLAG_ORDER.indexOf(a.flag) - FLAG_ORDER.indexOf(b.flag) || cmp(a.value, b.value) ||
    cmp(a.source, b.source)
  );
}

function valuesOf(grants: readonly Grant[], flag: GrantFlag): string[] {
  return [...new Set(grants.filter((g) => g.flag === flag).map((g) => g.value))];
}

/**
 * Derives an agent's exact Deno flags from its verified capability set, or throws
 * `forbidden_grant` naming the agent and the offending path or address.
 *
 * @example
 * ```ts
 * import { capsetPermissions } from "./permissions.ts";
 * import { homeLayout } from "../home/layout.ts";
 * const { flags } = capsetPermissions({
 *   agent: "viewer", version: 1, receives: [], sends: [], tools: [], vault: [],
 *   fs: { read: ["output", "audit"], write: [] }, net: ["127.0.0.1:8080"],
 *   limits: { max_envelope_bytes: 65536, quota_per_minute: 60, max_inbox_depth: 100, max_quarantine: 100 },
 *   issued_at: "2026-01-01T00:00:00Z", expires_at: "2027-01-01T00:00:00Z",
 * }, homeLayout("/srv/saoe"));
 * if (!flags.includes("--allow-net=127.0.0.1:8080") || !flags.includes("--deny-run")) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function capsetPermissions(
  capset: Capset,
  home: HomeLayout,
  options: CapsetPermissionOptions = {},
): CapsetPermissions {
  const agent = id(String(capset?.agent), capset?.agent, AGENT_ID_RE, "agent");
  checkHome(agent, home);
  const toolModules = options.toolModules ?? {};
  const derived = derive(capset, home, agent, toolModules);
  const grants = sortGrants(derived.items);
  const peers = [
    ...capset.receives.map((r) => r.from),
    ...capset.sends.map((s) => s.to),
  ];
  checkOwnOutput(grants, {
    root: home.root,
    agent,
    vaultTemplates: new Set(capset.vault),
    capsetReaders: new Set([agent, ...peers]),
    hasTools: capset.tools.length > 0,
    toolModules: new Set(
      capset.tools.map((t) => toolModules[t.name]).filter((m): m is string => m !== undefined),
    ),
  });

  const flags: string[] = [];
  if (options.toolgateHost ?? capset.tools.length > 0) flags.push(WORKER_OPTIONS_FLAG);
  const reads = valuesOf(grants, "allow-read");
  const writes = valuesOf(grants, "allow-write");
  const net = valuesOf(grants, "allow-net");
  if (reads.length > 0) flags.push(`--allow-read=${reads.join(",")}`);
  if (writes.length > 0) flags.push(`--allow-write=${writes.join(",")}`);
  flags.push(net.length > 0 ? `--allow-net=${net.join(",")}` : "--deny-net");
  flags.push(...ALWAYS_DENIED);
  for (const flag of flags) {
    if (!isAllowedFlag(flag)) throw refuse(agent, `flag ${JSON.stringify(flag)} is not allowed`);
  }
  const sandbox = renderSandbox(
    grants,
    capset,
    options.codePaths ?? [],
    home.root,
    (message) => refuse(agent, message),
  );
  return { flags, grants, sandbox };
}
