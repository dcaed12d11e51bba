/**
 * The supervisor's public face: how it is started, what a running one offers,
 * and what a reload and a stop report.
 *
 * @module
 */
import type { PublicKeyEntry } from "../../primitives/dsse/types.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { Timers } from "../../primitives/time/timers.ts";
import type { HomeConfig } from "../../domain/home/config.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import type { TrustDiff } from "./reload.ts";
import type { AgentStatus } from "./status.ts";

/** Options for {@linkcode startSupervisor}. */
export interface StartSupervisorOptions {
  /** The SAOE home (resolved with `Deno.realPath`: Deno checks paths as written). */
  home: string;
  /** The repository root (agent entry points and tool modules). */
  repo: string;
  clock?: Clock;
  /** Operator log lines (supervisor notices and agent stderr); default `console.error`. */
  log?(line: string): void;
  /** Called on every agent state change. */
  onAgentChange?(status: AgentStatus): void;
  /** Grace period between the stop request and SIGKILL at shutdown; default 10 s. */
  stopTimeoutMs?: number;
  /** Longest time from an append to the checkpoint that covers it; default 1 s. */
  checkpointIntervalMs?: number;
  /** Records after which a checkpoint is signed at once; default 256. */
  checkpointRecords?: number;
  /** Longest wait before a received event is appended; default 2 ms. */
  batchDelayMs?: number;
  /** {@linkcode Supervisor.ready} resolves at the latest after this; default 30 s. */
  readyTimeoutMs?: number;
  /** The Deno executable agents run with; default `Deno.execPath()`. */
  deno?: string;
  /** Watch `trust/` and `vault/` and reload on a change; default true. */
  watchTrust?: boolean;
  /** Quiet time after a change before the reload; default 300 ms. */
  watchDebounceMs?: number;
  /**
   * The timers of the status refresh and of the checkpoint interval; default the
   * runtime's (tests pass fake ones).
   */
  timers?: Timers;
  /**
   * Called each time the status writes requested so far are done: whether
   * `audit/status.json` was rewritten (false: its content had not changed).
   */
  onStatusWritten?(rewritten: boolean): void;
}

/** What a reload did. */
export interface ReloadReport {
  /** The new state verified and was applied. */
  applied: boolean;
  /** Why not: nothing changed, the new state did not verify, or the supervisor is stopping. */
  reason?: "unchanged" | "refused" | "stopping";
  /** The refusal, when `refused`. */
  error?: string;
  diff?: TrustDiff;
  /** Agents restarted, in order. */
  restarted?: string[];
  /** Agents stopped because they hold no valid key. */
  revoked?: string[];
}

/** The final checkpoint, or why there is none. */
export interface StopReport {
  checkpoint?: { treeSize: number; headHash: string };
  /** The largest checkpoint the witnesses cosigned by the end. */
  witnessedSize?: number;
  /** Set when the final checkpoint or pending events could not be written. */
  error?: string;
}

/** A running supervisor. */
export interface Supervisor {
  /** The resolved home. */
  readonly home: HomeLayout;
  /** The resolved repository root. */
  readonly repo: string;
  readonly config: HomeConfig;
  /** `http://127.0.0.1:PORT` of intake, from its capset, when intake runs. */
  readonly intakeUrl: string | undefined;
  /** The viewer's URL, when a viewer agent runs. */
  readonly viewerUrl: string | undefined;
  /** The key that signs this ledger's checkpoints (verify with it). */
  readonly checkpointKey: PublicKeyEntry;
  /**
   * Resolves once every agent's first process reported ready or exited (or after
   * `readyTimeoutMs`), with each agent's status at that moment.
   */
  readonly ready: Promise<AgentStatus[]>;
  /** Resolves once the supervisor has stopped. */
  readonly stopped: Promise<StopReport>;
  /** Each agent's status, in start order. */
  agents(): AgentStatus[];
  /** Stops every agent, drains events, writes the final checkpoint, closes the ledger. */
  stop(): Promise<StopReport>;
  /** Kills every agent now (a second Ctrl-C); a pending or later `stop()` still completes. */
  kill(): void;
  /**
   * Re-verifies the home and applies a changed trust state (what a change under
   * `trust/` or `vault/`, or SIGHUP, triggers). Concurrent calls share one run.
   */
  reload(): Promise<ReloadReport>;
  /** Root and directory versions in force. */
  trustVersions(): { root: number; directory: number };
}
