/**
 * The independent check of every path and address the capset → flags function
 * emits. It does not trust how a grant was derived: each path is classified by
 * where it lies in the home (containment through `node:path` `relative`, never
 * string prefixes, so `vault2/` is not `vault/`) and refused unless that place
 * is one an agent may be granted (docs/design.md sections 1 and 4).
 *
 * @module
 */
import { posix } from "node:path";
import { AGENT_ID_RE, TEMPLATE_ID_RE } from "../../primitives/ids/patterns.ts";
import { SUPERVISOR_ID } from "../home/layout.ts";
import { LISTEN_RE } from "./types.ts";

/** What the checker knows about the agent whose grants it checks. */
export interface GrantContext {
  /** Absolute, normalised home root. */
  root: string;
  /** The agent the grants are for. */
  agent: string;
  /** Template ids the capset names in `vault`. */
  vaultTemplates: ReadonlySet<string>;
  /** Agents whose capsets this agent may read: itself and its peers. */
  capsetReaders: ReadonlySet<string>;
  /** Whether the capset names any tool (the tool manifest is then readable). */
  hasTools: boolean;
  /** Tool module files of the capset's tools (outside the home, read-only). */
  toolModules?: ReadonlySet<string>;
}

// a comma would split one path into two grants in Deno's flag syntax; NUL and
// line breaks have no business in a path and break logs and the flag parser
// deno-lint-ignore no-control-regex -- control characters are exactly what it refuses
const BAD_CHARS_RE = /[\u0000-\u001f\u007f,]/;
const CAPSET_FILE_RE = /^([a-z][a-z0-9_]{0,31})\.age$/;

/** Refuses a path that is not absolute, normalised and free of hostile characters. */
export function pathShapeProblem(path: string): string | undefined {
  if (typeof path !== "string" || path.length === 0) return "is not a path";
  if (BAD_CHARS_RE.test(path)) return "contains a comma, NUL, line break or control character";
  if (path.split("/").includes("..")) return 'contains ".."';
  if (!posix.isAbsolute(path) || posix.normalize(path) !== path || path.endsWith("/")) {
    return "is not an absolute normalised path";
  }
  return undefined;
}

function vaultReadProblem(rest: readonly string[], ctx: GrantContext): string | undefined {
  const [kind, name, ...deeper] = rest;
  if (kind === "templates" && name !== undefined && deeper.length === 0) {
    if (TEMPLATE_ID_RE.test(name) && ctx.vaultTemplates.has(name)) return undefined;
  }
  if (kind === "capsets" && name !== undefined && deeper.length === 0) {
    const match = CAPSET_FILE_RE.exec(name);
    if (match !== null && ctx.capsetReaders.has(match[1]!)) return undefined;
  }
  if (kind === "tools.manifest.json" && name === undefined && ctx.hasTools) return undefined;
  return "is not one of the agent's own vault entries";
}

/**
 * Why `path` must not be granted for `access`, or `undefined` when it may be.
 *
 * @example
 * ```ts
 * import { pathGrantProblem } from "./_grant_check.ts";
 * const ctx = {
 *   root: "/srv/saoe", agent: "planner", vaultTemplates: new Set<string>(),
 *   capsetReaders: new Set(["planner"]), hasTools: false,
 * };
 * if (pathGrantProblem("/srv/saoe/keys", "read", ctx) === undefined) throw new Error();
 * if (pathGrantProblem("/srv/saoe/agents/planner", "write", ctx) !== undefined) throw new Error();
 * ```
 */
export function pathGrantProblem(
  path: string,
  access: "read" | "write",
  ctx: GrantContext,
): string | undefined {
  const shape = pathShapeProblem(path);
  if (shape !== undefined) return shape;
  const rel = posix.relative(ctx.root, path);
  if (rel === "") return "is the home itself";
  if (rel === ".." || rel.startsWith("../") || posix.isAbsolute(rel)) {
    // the one exception: a signed tool module file, read to hash it before loading
    const isAncestor = rel.split("/").every((segment) => segment === "..");
    const isToolModule = access === "read" && ctx.hasTools && !isAncestor &&
      path.endsWith(".ts") && ctx.toolModules?.has(path) === true;
    if (isToolModule) return undefined;
    return "is outside the home (or an ancestor of it)";
  }
  const [top, ...rest] = rel.split("/");
  switch (top) {
    case "config.json":
      return "is the operator config";
    case "keys":
      return "is inside the key store";
    case "trust":
      return access === "write" ? "would let the agent write the trust root" : undefined;
    case "vault":
      return access === "write"
        ? "would let the agent write the vault"
        : vaultReadProblem(rest, ctx);
    case "audit":
      return access === "write" ? "would let the agent write the audit ledger" : undefined;
    case "agents": {
      const [owner, folder, sender, ...deeper] = rest;
      // the supervisor's own state (version store, operator requests) is no agent's
      if (owner === SUPERVISOR_ID) return "is the supervisor's private state";
      if (owner === ctx.agent) return undefined;
      // a sender may use exactly its own subfolder of a peer's inbox
      if (
        owner !== undefined && AGENT_ID_RE.test(owner) && folder === "inbox" &&
        sender === ctx.agent && deeper.length === 0
      ) return undefined;
      if (owner === undefined) return "is every agent's private state";
      return folder === "inbox"
        ? "is inside another agent's inbox"
        : "is another agent's private state";
    }
    case "uploads":
    case "media":
    case "output":
      return undefined;
    default:
      return "is not a place in the home an agent may be granted";
  }
}

/**
 * Why `address` must not be a listen grant, or `undefined` when it is one loopback
 * port. Port 0 grants one port the operating system assigns when the agent
 * binds: Deno's `--allow-net=127.0.0.1:0` lets it listen on that port only, and
 * connect nowhere.
 */
export function netGrantProblem(address: string): string | undefined {
  const match = typeof address === "string" ? LISTEN_RE.exec(address) : null;
  if (match === null) return "is not a loopback address 127.0.0.1:PORT";
  const port = Number(match[1]);
  return port >= 0 && port <= 65535 ? undefined : "has a port outside 0-65535";
}

/** The only flag forms the capset → flags function may emit. */
// control characters are exactly what it refuses
const ALLOWED_FLAG_RE =
  // deno-lint-ignore no-control-regex
  /^(?:--allow-(?:read|write|net)=[^\u0000-\u001f\u007f]+|--deny-(?:net|env|run|ffi|sys)|--unstable-worker-options)$/;

/** True when `flag` is one of the forms an agent may be given. */
export function isAllowedFlag(flag: string): boolean {
  return ALLOWED_FLAG_RE.test(flag);
}
