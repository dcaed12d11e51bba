/**
 * The running supervisor's view of its agents, written atomically to
 * `audit/status.json` on every agent state change, for `saoe status` and the
 * viewer. It is a report, not a control channel: nothing reads it back to decide.
 *
 * @module
 */
import { utf8 } from "../../primitives/crypto/bytes.ts";
import {
  arr,
  type Decoded,
  int,
  literal,
  obj,
  oneOf,
  optional,
  str,
} from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { agentId } from "../../primitives/ids/patterns.ts";
import { timestamp } from "../../primitives/time/timestamp.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { type HomeLayout, SHARED_FILE_MODE, statusPath } from "../../domain/home/layout.ts";

/**
 * An agent's state: spawned, ready, waiting to restart, stopped for good, not
 * running because the key directory lists no valid key for it (`saoe keys revoke`),
 * or not started because a check before its spawn refused it (its code differs
 * from the signed code manifest: `refusal` says which file).
 */
export const AGENT_STATES = [
  "starting",
  "up",
  "backing-off",
  "stopped",
  "revoked",
  "refused",
] as const;

/** One agent state. */
export type AgentState = typeof AGENT_STATES[number];

const agentExit = obj({
  /** Exit code, when the process exited by itself. */
  code: optional(int(0, 255)),
  /** Signal name, when a signal ended it. */
  signal: optional(str({ pattern: /^SIG[A-Z0-9]+$/, maxLength: 16 })),
  /** Spawning failed (no exit code): why. */
  error: optional(str({ maxLength: 500 })),
  at: timestamp,
});

const agentStatus = obj({
  name: agentId,
  /** Process id of the current (or last) process. */
  pid: optional(int(1, 2 ** 31)),
  state: oneOf(AGENT_STATES),
  /** Restarts since the supervisor started. */
  restarts: int(0),
  /** When the current process was spawned. */
  started_at: optional(timestamp),
  last_exit: optional(agentExit),
  /** Entries waiting in the agent's inbox when the status was written. */
  queue_depth: optional(int(0)),
  /** Entries in the agent's dead-letter area when the status was written. */
  dead_letters: optional(int(0)),
  /** Why the agent is `refused`: the reason code and the file or fact named. */
  refusal: optional(obj({
    code: str({ pattern: /^[a-z_]{1,64}$/, maxLength: 64 }),
    message: str({ maxLength: 1000 }),
    file: optional(str({ maxLength: 1024 })),
  })),
  /** The loopback address the current process serves on (intake, the viewer). */
  listen: optional(str({ pattern: /^127\.0\.0\.1:[1-9][0-9]{0,4}$/, maxLength: 21 })),
});

const ledgerStatus = obj({
  /** Records in the ledger. */
  size: int(0),
  /** The largest checkpoint the witness policy's threshold cosigned. */
  witnessed: int(0),
  /** Records after it: vouched for by the log key only, so far. */
  unwitnessed: int(0),
});

const witnessStatus = obj({
  name: str({ maxLength: 200 }),
  url: str({ maxLength: 300 }),
  /** `ahead`: it vouches for more than the ledger holds (the ledger was rolled back). */
  state: oneOf(["ok", "pending", "unreachable", "refused", "ahead"] as const),
  /** The size it last cosigned, as far as the supervisor knows. */
  size: int(0),
  error: optional(str({ maxLength: 1000 })),
  since: timestamp,
});

const supervisorStatus = obj({
  format: literal(1),
  /** The supervisor's process id. */
  pid: int(1, 2 ** 31),
  home: str({ maxLength: 4096 }),
  state: oneOf(["running", "stopping", "stopped"] as const),
  started_at: timestamp,
  updated_at: timestamp,
  agents: arr(agentStatus, 64),
  ledger: optional(ledgerStatus),
  witnesses: optional(arr(witnessStatus, 16)),
  /**
   * The agents' OS sandbox: `per_agent` uids (a supervisor running as root) or
   * uids `shared` with the supervisor (namespaces and limits still apply).
   */
  sandbox: optional(obj({ uids: oneOf(["per_agent", "shared"] as const) })),
});

/** The ledger's witnessing in the status file. */
export type LedgerStatus = Decoded<typeof ledgerStatus>;
/** One witness in the status file. */
export type WitnessStatus = Decoded<typeof witnessStatus>;

/** How an agent process ended. */
export type AgentExit = Decoded<typeof agentExit>;
/** One agent in the status file. */
export type AgentStatus = Decoded<typeof agentStatus>;
/** The status file. */
export type SupervisorStatus = Decoded<typeof supervisorStatus>;

/**
 * Writes the status file atomically.
 *
 * @example
 * ```ts
 * import { readSupervisorStatus, writeSupervisorStatus } from "./status.ts";
 * import { homeLayout } from "../../domain/home/layout.ts";
 * const home = homeLayout(await Deno.makeTempDir());
 * await Deno.mkdir(home.audit);
 * const at = "2026-01-01T00:00:00Z";
 * await writeSupervisorStatus(home, {
 *   format: 1, pid: 42, home: home.root, state: "running", started_at: at, updated_at: at,
 *   agents: [{ name: "planner", pid: 43, state: "up", restarts: 0, started_at: at }],
 * });
 * if ((await readSupervisorStatus(home))?.agents[0]?.state !== "up") throw new Error();
 * await Deno.remove(home.root, { recursive: true });
 * ```
 */
export async function writeSupervisorStatus(
  home: HomeLayout,
  status: SupervisorStatus,
): Promise<void> {
  const checked = supervisorStatus(status, "$");
  // the viewer reads it through the audit folder's group (no one else may enter audit/)
  await writeFileAtomic(statusPath(home), utf8(`${JSON.stringify(checked, null, 2)}\n`), {
    mode: SHARED_FILE_MODE,
  });
}

/**
 * Reads and strictly decodes the status file; `undefined` when there is none (no
 * supervisor ever ran). A status whose `state` is not `stopped` may be stale if
 * the supervisor was killed: check that `pid` is still alive.
 */
export async function readSupervisorStatus(
  home: HomeLayout,
): Promise<SupervisorStatus | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(statusPath(home));
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  return supervisorStatus(parseStrictJson(bytes, { maxBytes: 256 * 1024 }), "$");
}

/**
 * `http://127.0.0.1:PORT` where `agent` of a running pipeline serves, as its
 * process reported it, or `undefined`.
 *
 * @example
 * ```ts
 * import { serviceUrl } from "./status.ts";
 * const status = { agents: [{ name: "intake", listen: "127.0.0.1:4711" }] };
 * if (serviceUrl(status, "intake") !== "http://127.0.0.1:4711") throw new Error();
 * if (serviceUrl(status, "viewer") !== undefined) throw new Error();
 * ```
 */
export function serviceUrl(
  status: { agents: readonly { name: string; listen?: string }[] } | undefined,
  agent: string,
): string | undefined {
  const listen = status?.agents.find((a) => a.name === agent)?.listen;
  return listen === undefined ? undefined : `http://${listen}`;
}
