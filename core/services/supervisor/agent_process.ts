/**
 * One supervised agent: spawns its exact command line with a cleared
 * environment, hands it its secrets over stdin, checks every line it reports on
 * stdout, forwards its stderr (made inert for the terminal), and restarts it with backoff whenever it exits
 * without being asked to. Every start and exit is reported as a supervisor event.
 *
 * A report line that is not a valid report of this agent is a sandbox
 * violation: the process is killed (it holds only its own key, so a forged line
 * means it is compromised) and restarted fresh.
 *
 * @module
 */
import { inert } from "../../primitives/text/inert_text.ts";
import { STOP_REQUEST } from "../runtime/protocol.ts";
import { isSaoeError, SaoeError } from "../../primitives/errors.ts";
import type { EventFields } from "../../domain/ledger/events.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import type { AgentCommand } from "./agent_command.ts";
import { nextBackoffMs } from "./backoff.ts";
import { readLines } from "./line_reader.ts";
import type { AuditEvent } from "../../domain/ledger/events.ts";
import { MAX_REPORT_LINE_BYTES, type ReportLine } from "./report_line.ts";
import type { AgentExit, AgentStatus } from "./status.ts";

/** Exit code of an agent that cannot start (bad handover or trust state). */
const EXIT_CONFIG = 78;
/** Exit code of an agent that asks to be replaced (a tool timed out). */
const EXIT_RESTART = 75;
const MAX_STDERR_LINE_BYTES = 8 * 1024;

/** A supervisor event about this agent (`agent` is the supervisor's, filled in by the caller). */
export type SupervisorEventFields = Omit<EventFields, "agent" | "at">;

/** Options for {@linkcode AgentProcess}. */
export interface AgentProcessOptions {
  name: string;
  command: AgentCommand;
  /** Hex SHA-256 of the JSON array of `command.args` (reported in `agent_started`). */
  flagsSha256: string;
  /** Working folder of the agent (the repository root). */
  cwd: string;
  /** Builds the handover line; the process zeroes it once written. */
  handover(): Promise<Uint8Array<ArrayBuffer>>;
  /** Checks one stdout line (throws on anything that is not a valid report). */
  checkLine(line: Uint8Array): Promise<ReportLine>;
  /** A checked event's exact bytes, for the ledger. */
  onEvent(bytes: Uint8Array, event: AuditEvent): void;
  /** A supervisor event about this agent, for the ledger. */
  onSupervisorEvent(fields: SupervisorEventFields): void;
  /** The agent's status changed. */
  onChange(status: AgentStatus): void;
  /** A log line for the operator (agent stderr is prefixed `[name] `). */
  log(line: string): void;
  clock: Clock;
  /** Longest stdout line; default {@linkcode MAX_REPORT_LINE_BYTES}. */
  maxLineBytes?: number;
  /**
   * Runs before every spawn (the first and each restart); a `SaoeError` it
   * throws refuses the spawn: the agent is `refused`, an `agent_refused` event
   * names the reason and file, and it waits for {@linkcode AgentProcess.restart}.
   */
  beforeSpawn?: () => Promise<void>;
}

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}

function exitText(exit: AgentExit): string {
  if (exit.error !== undefined) return `could not be spawned (${exit.error})`;
  if (exit.signal !== undefined) return `was ended by ${exit.signal}`;
  if (exit.code === EXIT_CONFIG) {
    return `exited with code 78 (configuration error: it could not start, see its messages above)`;
  }
  if (exit.code === EXIT_RESTART) {
    return `exited with code 75 (a tool timed out; it asks to be replaced)`;
  }
  return `exited with code ${exit.code}`;
}

/**
 * A supervised agent process, restarted until {@linkcode AgentProcess.stop}.
 *
 * @example
 * ```ts ignore
 * const agent = new AgentProcess({ name: "planner", command, cwd: repo, ... });
 * agent.start();
 * await agent.stop(10_000);
 * ```
 */
export class AgentProcess {
  readonly #o: AgentProcessOptions;
  #command: AgentCommand;
  #flagsSha256: string;
  #status: AgentStatus;
  #child: Deno.ChildProcess | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #lastDelay: number | undefined;
  #settled = Promise.withResolvers<void>();
  /** The stdin writer of each process whose handover is written. */
  readonly #writers = new WeakMap<Deno.ChildProcess, WritableStreamDefaultWriter<Uint8Array>>();
  /** Processes asked to stop (the request follows the handover). */
  readonly #stopAsked = new WeakSet<Deno.ChildProcess>();
  /** Set while a requested restart replaces the process: its exit is no crash. */
  #restartRequested = false;
  /** Resolves when the process started by a requested restart is ready (or exits). */
  #restarted: PromiseWithResolvers<void> | undefined;

  /** Prepares the agent; nothing runs before {@linkcode AgentProcess.start}. */
  constructor(options: AgentProcessOptions) {
    this.#o = options;
    this.#command = options.command;
    this.#flagsSha256 = options.flagsSha256;
    this.#status = { name: options.name, state: "stopped", restarts: 0 };
  }

  /** The agent's name. */
  get name(): string {
    return this.#o.name;
  }

  /** A copy of the current status. */
  status(): AgentStatus {
    return structuredClone(this.#status);
  }

  /** Resolves once the first process reported ready or exited. */
  get firstSettled(): Promise<void> {
    return this.#settled.promise;
  }

  /** Resolves when the agent has stopped for good. */
  get done(): Promise<void> {
    return this.#loop ?? Promise.resolve();
  }

  /** Starts the agent (and its restart loop). */
  start(): void {
    if (this.#loop !== undefined) throw new TypeError(`Agent ${this.#o.name} was already started`);
    this.#loop = this.#run().catch((err: unknown) => {
      this.#o.log(`supervisor: agent "${this.#o.name}" supervision failed: ${describe(err)}`);
      this.#set({ state: "stopped" });
      this.#settled.resolve();
    });
  }

  /**
   * Stops restarting, asks the process to stop (a stop request on its stdin: the
   * runtime drains its in-flight work), and kills it after `timeoutMs`.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    this.#askToStop();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    try {
      if (await Promise.race([this.done.then(() => false), timedOut])) {
        this.#o.log(
          `supervisor: agent "${this.#o.name}" did not stop within ${timeoutMs} ms; killing it`,
        );
        this.#signal("SIGKILL");
      }
    } finally {
      clearTimeout(timer);
    }
    await this.done;
  }

  /** True once the restart loop has ended (stopped, or never started). */
  get ended(): boolean {
    return this.#loop === undefined || this.#stopping;
  }

  /**
   * Replaces the running process with a fresh one (new command line and new
   * handover, e.g. after a key rotation): a stop request (the runtime drains its
   * in-flight work), SIGKILL after `timeoutMs`, then a respawn at once (no
   * backoff). Resolves when the new process reported ready or exited, or after
   * `readyTimeoutMs`. Does nothing once the agent is being stopped.
   */
  async restart(options: {
    command: AgentCommand;
    flagsSha256: string;
    timeoutMs: number;
    readyTimeoutMs: number;
  }): Promise<void> {
    this.#command = options.command;
    this.#flagsSha256 = options.flagsSha256;
    if (this.#stopping || this.#loop === undefined) return;
    const restarted = Promise.withResolvers<void>();
    this.#restarted = restarted;
    const child = this.#child;
    if (child === undefined) {
      // between processes (backing off): spawn the next one now
      this.#wake?.();
    } else {
      this.#restartRequested = true;
      this.#askToStop();
    }
    const timers: ReturnType<typeof setTimeout>[] = [];
    const killLater = new Promise<void>((resolve) => {
      timers.push(setTimeout(() => {
        if (this.#child === child && child !== undefined) {
          this.#o.log(
            `supervisor: agent "${this.#o.name}" did not stop within ${options.timeoutMs} ms; killing it`,
          );
          this.#signal("SIGKILL");
        }
        resolve();
      }, options.timeoutMs));
    });
    const give = new Promise<void>((resolve) => {
      timers.push(setTimeout(resolve, options.timeoutMs + options.readyTimeoutMs));
    });
    try {
      await Promise.race([restarted.promise, this.done, give]);
    } finally {
      for (const t of timers) clearTimeout(t);
      void killLater;
      if (this.#restarted === restarted) this.#restarted = undefined;
    }
  }

  /** Marks an agent that is not running because its keys are revoked. */
  markRevoked(): void {
    this.#set({ state: "revoked" });
    this.#settled.resolve();
  }

  /** Stops restarting and kills the process now. */
  kill(): void {
    this.#stopping = true;
    this.#wake?.();
    this.#signal("SIGKILL");
  }

  /**
   * Asks the running process to stop after its in-flight work: a stop request
   * on its stdin, written after the handover (a signal would end bubblewrap,
   * which then kills the agent without letting it finish).
   */
  #askToStop(): void {
    const child = this.#child;
    if (child === undefined) return;
    this.#stopAsked.add(child);
    const writer = this.#writers.get(child);
    if (writer !== undefined) writer.write(STOP_REQUEST).catch(() => {});
  }

  #signal(signal: Deno.Signal): void {
    try {
      this.#child?.kill(signal);
    } catch {
      // it already exited: its exit is being handled
    }
  }

  #set(patch: Partial<AgentStatus>): void {
    this.#status = { ...this.#status, ...patch };
    this.#o.onChange(this.status());
  }

  async #run(): Promise<void> {
    // no await before the first spawn: agents started in a row spawn in that order
    const { name, clock } = this.#o;
    let first = true;
    while (!this.#stopping) {
      const command = this.#command;
      const flagsSha256 = this.#flagsSha256;
      if (!first) this.#status.restarts++;
      first = false;
      if (this.#o.beforeSpawn !== undefined) {
        const refusal = await this.#o.beforeSpawn().then(() => undefined, (err: unknown) => err);
        if (refusal !== undefined) {
          if (!await this.#refused(refusal)) break;
          first = true; // a refusal is not a restart
          continue;
        }
      }
      const spawnedAt = clock.now();
      let child: Deno.ChildProcess;
      try {
        child = new Deno.Command(command.program, {
          args: command.programArgs,
          cwd: this.#o.cwd,
          clearEnv: true,
          env: {},
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
          // its own process group: a terminal's Ctrl-C reaches the supervisor only,
          // which then stops the agents in order
          detached: true,
        }).spawn();
      } catch (err: unknown) {
        const exit: AgentExit = { error: describe(err), at: formatTimestamp(clock.now()) };
        this.#exited(exit, undefined, 0);
        if (!await this.#backoff(exit, 0)) break;
        continue;
      }
      this.#child = child;
      const { listen: _previous, ...rest } = this.#status;
      this.#status = rest;
      this.#set({
        pid: child.pid,
        state: "starting",
        started_at: formatTimestamp(spawnedAt),
      });
      this.#o.onSupervisorEvent({
        type: "agent_started",
        detail: {
          agent: name,
          pid: child.pid,
          flags_sha256: flagsSha256,
          restarts: this.#status.restarts,
        },
      });
      if (this.#stopping) this.#askToStop(); // stop() came while spawning
      const handedOver = this.#handOver(child);
      const stdout = this.#readStdout(child);
      const stderr = this.#readStderr(child);
      const status = await child.status;
      // every line the process wrote is checked before its exit is recorded
      await Promise.all([handedOver, stdout, stderr]);
      this.#child = undefined;
      const exit: AgentExit = {
        ...(status.signal !== null ? { signal: status.signal } : { code: status.code }),
        at: formatTimestamp(clock.now()),
      };
      const uptime = clock.now() - spawnedAt;
      const requested = this.#restartRequested;
      this.#restartRequested = false;
      this.#exited(exit, child.pid, uptime, requested);
      if (requested) {
        // replaced on purpose (a reload), not a crash: respawn at once
        this.#lastDelay = undefined;
        continue;
      }
      if (!await this.#backoff(exit, uptime)) break;
    }
    this.#set({ state: "stopped" });
    this.#settled.resolve();
  }

  #exited(exit: AgentExit, pid: number | undefined, uptimeMs: number, replaced = false): void {
    this.#status.last_exit = exit;
    this.#settled.resolve();
    // the process a restart started exited before it was ready: stop waiting for it
    if (!replaced) this.#restarted?.resolve();
    this.#o.onSupervisorEvent({
      type: "agent_exited",
      detail: {
        agent: this.#o.name,
        ...(pid !== undefined ? { pid } : {}),
        ...(exit.code !== undefined ? { exit_code: exit.code } : {}),
        ...(exit.signal !== undefined ? { signal: exit.signal } : {}),
        ...(exit.error !== undefined ? { error: exit.error } : {}),
        uptime_ms: uptimeMs,
        requested: this.#stopping || replaced,
        ...(replaced ? { replaced: true } : {}),
      },
    });
  }

  /**
   * Records a refused spawn and waits until a restart (a reload, a re-pin)
   * wakes the agent; false when it is being stopped.
   */
  async #refused(err: unknown): Promise<boolean> {
    const code = isSaoeError(err) ? err.code : "io_error";
    const message = describe(err);
    const file = isSaoeError(err) ? err.ids.file : undefined;
    this.#set({
      state: "refused",
      refusal: { code, message, ...(file !== undefined ? { file } : {}) },
    });
    this.#settled.resolve();
    this.#restarted?.resolve();
    this.#o.log(`supervisor: agent "${this.#o.name}" not started: ${message} (${code})`);
    this.#o.onSupervisorEvent({
      type: "agent_refused",
      reason: code,
      detail: { agent: this.#o.name, ...(file !== undefined ? { file } : {}) },
    });
    if (this.#stopping) return false;
    await new Promise<void>((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
    const { refusal: _gone, ...rest } = this.#status;
    this.#status = rest;
    return !this.#stopping;
  }

  /** Waits before the next restart; false when the agent is being stopped. */
  async #backoff(exit: AgentExit, uptimeMs: number): Promise<boolean> {
    if (this.#stopping) return false;
    const delay = nextBackoffMs(this.#lastDelay, uptimeMs);
    this.#lastDelay = delay;
    this.#set({ state: "backing-off" });
    this.#o.log(
      `supervisor: agent "${this.#o.name}" ${exitText(exit)}; restarting in ${
        (delay / 1000).toFixed(1)
      } s`,
    );
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, delay);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
    return !this.#stopping;
  }

  async #handOver(child: Deno.ChildProcess): Promise<void> {
    let bytes: Uint8Array<ArrayBuffer> | undefined;
    const writer = child.stdin.getWriter();
    try {
      bytes = await this.#o.handover();
      await writer.write(bytes);
      this.#writers.set(child, writer);
      if (this.#stopAsked.has(child)) await writer.write(STOP_REQUEST);
      // the pipe stays open for the agent's life: its end tells the agent the supervisor is gone
      void child.status.then(() => {
        this.#writers.delete(child);
        this.#stopAsked.delete(child);
        return writer.close();
      }).catch(() => {});
    } catch (err: unknown) {
      // without its secrets the agent would wait forever: end it, the restart loop retries
      this.#o.log(
        `supervisor: cannot hand over to agent "${this.#o.name}": ${describe(err)}`,
      );
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    } finally {
      bytes?.fill(0);
    }
  }

  async #readStdout(child: Deno.ChildProcess): Promise<void> {
    const { name } = this.#o;
    const result = await readLines(child.stdout, {
      maxLineBytes: this.#o.maxLineBytes ?? MAX_REPORT_LINE_BYTES,
      onLine: async (line) => {
        let report: ReportLine;
        try {
          report = await this.#o.checkLine(line);
        } catch (err: unknown) {
          this.#violation(child, err);
          return false;
        }
        if (report.kind === "ready") {
          const problem = listenProblem(report.listen, this.#command);
          if (problem !== undefined) {
            this.#violation(child, new SaoeError("sender_not_allowed", problem, { agent: name }));
            return false;
          }
          if (report.listen !== undefined) this.#set({ listen: report.listen });
          if (this.#status.state === "starting") this.#set({ state: "up" });
          this.#settled.resolve();
          this.#restarted?.resolve();
        } else {
          this.#o.onEvent(report.bytes, report.event);
        }
      },
    }).catch((err: unknown) => {
      this.#o.log(`supervisor: cannot read the output of agent "${name}": ${describe(err)}`);
      return undefined;
    });
    if (result?.end === "overflow") {
      this.#violation(
        child,
        new SaoeError(
          "size_exceeded",
          `Agent "${name}" wrote a line longer than ${
            this.#o.maxLineBytes ?? MAX_REPORT_LINE_BYTES
          } bytes`,
          { agent: name },
        ),
      );
    } else if (result !== undefined && result.trailing.byteLength > 0) {
      this.#o.log(
        `supervisor: agent "${name}" ended with an incomplete report line (${result.trailing.byteLength} bytes); ignored`,
      );
    }
  }

  #violation(child: Deno.ChildProcess, err: unknown): void {
    const { name } = this.#o;
    const reason = err instanceof SaoeError ? err.code : "parse_error";
    const message = describe(err);
    this.#o.onSupervisorEvent({
      type: "sandbox_violation",
      reason,
      detail: { agent: name, pid: child.pid, message },
    });
    this.#o.log(
      `supervisor: SANDBOX VIOLATION by agent "${name}" (pid ${child.pid}): ${message} (${reason}); killing it`,
    );
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }

  async #readStderr(child: Deno.ChildProcess): Promise<void> {
    const decoder = new TextDecoder();
    await readLines(child.stderr, {
      maxLineBytes: MAX_STDERR_LINE_BYTES,
      overflow: "split",
      // an agent must not drive the operator's terminal: its text is shown inert
      onLine: (line) => this.#o.log(`[${this.#o.name}] ${inert(decoder.decode(line))}`),
    }).then((r) => {
      if (r.trailing.byteLength > 0) {
        this.#o.log(`[${this.#o.name}] ${inert(decoder.decode(r.trailing))}`);
      }
    }).catch(() => {});
  }
}

/**
 * Why a ready line's listen address is not the one the agent's capset grants
 * (its `--allow-net` grant), or `undefined`. A grant of port 0 accepts whatever
 * port the system assigned; Deno's flags already kept the process to it.
 */
function listenProblem(listen: string | undefined, command: AgentCommand): string | undefined {
  if (listen === undefined) return undefined;
  const grants = command.grants.filter((g) => g.flag === "allow-net").map((g) => g.value);
  const ok = grants.some((g) =>
    g === listen || (g === "127.0.0.1:0" && listen.startsWith("127.0.0.1:"))
  );
  return ok
    ? undefined
    : `Agent reported listening on ${listen}, which its capability set does not grant (${
      grants.length === 0 ? "no net grant" : grants.join(", ")
    })`;
}
