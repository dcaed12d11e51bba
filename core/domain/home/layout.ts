/**
 * The runtime home layout (docs/design.md section 4). Every path SAOE touches is built
 * here from a validated identifier, so no caller concatenates untrusted strings
 * into a path.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { AGENT_ID_RE, assertIdentifier, UUID_RE } from "../../primitives/ids/patterns.ts";

const AGENT_SUBDIRS: readonly string[] = ["quarantine", "dead", "store", "retry"];
const SESSION_ROOTS: readonly string[] = ["uploads", "media", "output"];

// the parameter types already say this; the runtime check keeps a cast or a
// JavaScript caller from turning "../.." into a path outside the home
function assertOneOf(value: string, allowed: readonly string[], what: string): void {
  if (!allowed.includes(value)) {
    throw new SaoeError(
      "bad_identifier",
      `Invalid ${what} ${JSON.stringify(String(value).slice(0, 80))}: expected one of ${
        allowed.join(", ")
      }`,
    );
  }
}

/** Absolute paths of one SAOE home. */
export interface HomeLayout {
  root: string;
  config: string;
  trust: string;
  vault: string;
  keys: string;
  agents: string;
  uploads: string;
  media: string;
  output: string;
  audit: string;
}

/** Folders directly under the home, by name. */
export const HOME_FOLDERS = [
  "trust",
  "vault",
  "keys",
  "agents",
  "uploads",
  "media",
  "output",
  "audit",
] as const;

/** Folders no agent may ever write (vault, trust root, keys, ledger). */
export const NEVER_AGENT_WRITABLE = ["vault", "trust", "keys", "audit"] as const;

/**
 * Mode of a folder made inside a shared folder (`uploads`, `media`, `output`,
 * `audit`) or a peer's inbox: its group (the shared folder's, inherited through
 * the set-group-id bit) may enter and list it, nobody else.
 */
export const SHARED_DIR_MODE = 0o750;
/** Mode of a file written into a shared folder or a peer's inbox: its group may read it. */
export const SHARED_FILE_MODE = 0o640;

/** Folders an agent's capset may name as shared `fs` roots. */
export const SHARED_FS_ROOTS = ["uploads", "media", "output", "audit"] as const;

/**
 * Builds the layout of the home at `root` (made absolute).
 *
 * @example
 * ```ts
 * import { homeLayout } from "./layout.ts";
 * const home = homeLayout("/srv/saoe");
 * if (home.vault !== "/srv/saoe/vault") throw new Error();
 * ```
 */
export function homeLayout(root: string): HomeLayout {
  const abs = resolve(root);
  return {
    root: abs,
    config: join(abs, "config.json"),
    trust: join(abs, "trust"),
    vault: join(abs, "vault"),
    keys: join(abs, "keys"),
    agents: join(abs, "agents"),
    uploads: join(abs, "uploads"),
    media: join(abs, "media"),
    output: join(abs, "output"),
    audit: join(abs, "audit"),
  };
}

/**
 * `agents/<agent>/inbox/`: an agent's whole inbox. It lies inside the agent's own
 * folder so that taking an entry into `quarantine/` stays one rename within one
 * mount of the agent's sandbox (a rename between two bind mounts fails with EXDEV).
 */
export function inboxDir(home: HomeLayout, agent: string): string {
  return join(agentDir(home, agent), "inbox");
}

/** `agents/<receiver>/inbox/<sender>/`: the one inbox folder `sender` may write. */
export function inboxFromDir(home: HomeLayout, receiver: string, sender: string): string {
  return join(inboxDir(home, receiver), assertIdentifier(sender, AGENT_ID_RE, "agent id"));
}

/** `agents/<agent>/`: an agent's private state. */
export function agentDir(home: HomeLayout, agent: string): string {
  return join(home.agents, assertIdentifier(agent, AGENT_ID_RE, "agent id"));
}

/** `agents/<agent>/{quarantine,dead,store}/`. */
export function agentSubdir(
  home: HomeLayout,
  agent: string,
  sub: "quarantine" | "dead" | "store" | "retry",
): string {
  assertOneOf(sub, AGENT_SUBDIRS, "agent folder");
  return join(agentDir(home, agent), sub);
}

/** `<root>/<session>/` under `uploads`, `media` or `output`. */
export function sessionDir(
  home: HomeLayout,
  root: "uploads" | "media" | "output",
  session: string,
): string {
  assertOneOf(root, SESSION_ROOTS, "session root");
  return join(home[root], assertIdentifier(session, UUID_RE, "session id"));
}

/** `audit/ledger.db`: the hash-chained audit ledger (supervisor writes, viewer reads). */
export function ledgerPath(home: HomeLayout): string {
  return join(home.audit, "ledger.db");
}

/**
 * `<home>/audit/checkpoint`: a copy of the latest witnessed checkpoint note, for
 * operators to keep elsewhere (`saoe audit verify --checkpoint`); nothing trusts
 * it without checking its cosignatures.
 *
 * @example
 * ```ts
 * import { homeLayout, witnessedCheckpointPath } from "./layout.ts";
 * if (witnessedCheckpointPath(homeLayout("/srv/saoe")) !== "/srv/saoe/audit/checkpoint") throw new Error();
 * ```
 */
export function witnessedCheckpointPath(home: HomeLayout): string {
  return join(home.audit, "checkpoint");
}

/** `audit/status.json`: the running supervisor's view of its agents (for `saoe status`). */
export function statusPath(home: HomeLayout): string {
  return join(home.audit, "status.json");
}

/** The supervisor's identity in the key directory (signs checkpoints and its own events). */
export const SUPERVISOR_ID = "supervisor";

/** `agents/supervisor/store/versions.json`: the highest statement versions the supervisor accepted. */
export function supervisorVersionsPath(home: HomeLayout): string {
  return join(agentSubdir(home, SUPERVISOR_ID, "store"), "versions.json");
}

/**
 * `agents/supervisor/requests/`: operator requests the CLI hands a running
 * supervisor (signed with the supervisor's key; no capability set may grant
 * anything of the supervisor's own state folder).
 *
 * @example
 * ```ts
 * import { homeLayout, supervisorRequestsDir } from "./layout.ts";
 * if (supervisorRequestsDir(homeLayout("/srv/saoe")) !== "/srv/saoe/agents/supervisor/requests") {
 *   throw new Error();
 * }
 * ```
 */
export function supervisorRequestsDir(home: HomeLayout): string {
  return join(agentDir(home, SUPERVISOR_ID), "requests");
}
