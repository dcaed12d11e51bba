/**
 * Keeps `audit/status.json` current: written on every agent state change and
 * refreshed every few seconds (queue depths and dead letters change without a
 * state change), but rewritten only when its content changed, so an idle
 * pipeline writes nothing (a rewrite every few seconds woke every watcher of
 * `audit/`, the viewer's). Writes never overlap: a request during a write is
 * folded into one more write after it.
 *
 * @module
 */
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { systemTimers, type TimerHandle, type Timers } from "../../primitives/time/timers.ts";
import type { Capset } from "../../domain/capset/types.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { inboxDepth } from "../../domain/queue/depth.ts";
import { queuePaths } from "../../domain/queue/paths.ts";
import {
  type AgentStatus,
  type LedgerStatus,
  type SupervisorStatus,
  type WitnessStatus,
  writeSupervisorStatus,
} from "./status.ts";

/** How often the status file is refreshed while nothing changes state. */
export const STATUS_REFRESH_MS = 5_000;

/** What the status reports, read at each write. */
export interface StatusSource {
  state(): SupervisorStatus["state"];
  agents(): AgentStatus[];
  capset(agent: string): Capset | undefined;
  /** The ledger's size and how much of it the witnesses cosigned. */
  ledger?(): LedgerStatus;
  /** Each witness's state. */
  witnesses?(): WitnessStatus[];
  /** Whether the agents run as their own uids. */
  sandbox?(): NonNullable<SupervisorStatus["sandbox"]>;
}

/** Options for {@linkcode StatusWriter}. */
export interface StatusWriterOptions {
  home: HomeLayout;
  startedAt: string;
  clock: Clock;
  source: StatusSource;
  log(line: string): void;
  /** Default {@linkcode STATUS_REFRESH_MS}. */
  refreshMs?: number;
  /** Default the runtime's. */
  timers?: Timers;
  /**
   * Called each time the writes requested so far are done (when
   * {@linkcode StatusWriter.idle} would resolve): whether the file was rewritten
   * (false: its content had not changed).
   */
  onWritten?(rewritten: boolean): void;
}

async function countEntries(dir: string): Promise<number> {
  let n = 0;
  for await (const entry of Deno.readDir(dir)) if (entry.name.endsWith(".satl")) n++;
  return n;
}

/** Writes the supervisor's status file. */
export class StatusWriter {
  readonly #options: StatusWriterOptions;
  readonly #timers: Timers;
  #refresh: TimerHandle | undefined;
  /** The status last written, without its time (a rewrite is skipped when equal). */
  #written = "";
  #writing = false;
  #dirty = false;
  #done: Promise<void> = Promise.resolve();

  /** Creates a writer; call {@linkcode StatusWriter.start} to write and refresh. */
  constructor(options: StatusWriterOptions) {
    this.#options = options;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Writes now and every `refreshMs` until {@linkcode StatusWriter.stop}. */
  start(): void {
    this.#refresh ??= this.#timers.setInterval(
      () => this.write(),
      this.#options.refreshMs ?? STATUS_REFRESH_MS,
    );
    this.write();
  }

  /** Stops the refresh; writes already requested still complete ({@linkcode StatusWriter.idle}). */
  stop(): void {
    if (this.#refresh !== undefined) this.#timers.clearInterval(this.#refresh);
    this.#refresh = undefined;
  }

  /** Resolves when no write is running or pending. */
  idle(): Promise<void> {
    return this.#done;
  }

  /** Requests a write (coalesced with one in progress). */
  write(): void {
    if (this.#writing) {
      this.#dirty = true;
      return;
    }
    this.#writing = true;
    this.#done = (async () => {
      let rewritten = false;
      do {
        this.#dirty = false;
        try {
          if (await this.#writeOnce()) rewritten = true;
        } catch (err: unknown) {
          this.#options.log(
            `supervisor: cannot write the status file: ${
              err instanceof Error ? err.message : String(err)
            }`,
          );
        }
      } while (this.#dirty);
      this.#writing = false;
      try {
        this.#options.onWritten?.(rewritten);
      } catch {
        // a listener's failure is not the status file's
      }
    })();
  }

  /** Writes the status unless its content is unchanged; true when the file was rewritten. */
  async #writeOnce(): Promise<boolean> {
    const { home, source } = this.#options;
    const content = {
      format: 1 as const,
      pid: Deno.pid,
      home: home.root,
      state: source.state(),
      started_at: this.#options.startedAt,
      agents: await this.#agentsWithQueues(),
      ...(source.ledger !== undefined ? { ledger: source.ledger() } : {}),
      ...(source.witnesses !== undefined ? { witnesses: source.witnesses() } : {}),
      ...(source.sandbox !== undefined ? { sandbox: source.sandbox() } : {}),
    };
    const key = JSON.stringify(content);
    if (key === this.#written) return false;
    const now = formatTimestamp(this.#options.clock.now());
    await writeSupervisorStatus(home, { ...content, updated_at: now });
    this.#written = key;
    return true;
  }

  /** Agent states with their inbox depth and dead-letter count (the viewer cannot read those). */
  async #agentsWithQueues(): Promise<AgentStatus[]> {
    const { home, source } = this.#options;
    return await Promise.all(
      source.agents().map(async (a) => {
        const paths = queuePaths(home, a.name);
        const senders = source.capset(a.name)?.receives.map((r) => r.from) ?? [];
        const depth = await inboxDepth({ inbox: paths.inbox, senders }).catch(() => undefined);
        const dead = await countEntries(paths.dead).catch(() => undefined);
        return {
          ...a,
          ...(depth !== undefined ? { queue_depth: depth } : {}),
          ...(dead !== undefined ? { dead_letters: dead } : {}),
        };
      }),
    );
  }
}
