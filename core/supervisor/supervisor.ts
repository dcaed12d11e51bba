/**
 * The supervisor (`saoe pipeline`): the only long-lived process with broad
 * rights. At startup it refuses to run on an unsafe or unverifiable home (links
 * in agent-visible folders, a broken trust root chain, directory, capability set
 * or tool manifest), creates the folders agents cannot create, opens the audit
 * ledger as its single writer, and spawns every agent of `config.agents` with
 * exactly the command line its verified capset derives. While running it appends
 * the agents' verified audit events and its own (`agent_started`,
 * `agent_exited`, `sandbox_violation`, `checkpoint`) in batches, restarts
 * crashed agents with backoff, keeps `audit/status.json` current, and signs a
 * checkpoint every minute the ledger grew. {@linkcode Supervisor.stop} stops the
 * agents (SIGTERM, then SIGKILL after a grace period), drains their last events
 * and writes a final checkpoint.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../errors.ts";
import { sha256Hex, utf8 } from "../crypto/bytes.ts";
import { SigningKey } from "../crypto/ed25519.ts";
import type { PublicKeyEntry } from "../dsse/types.ts";
import { type Clock, systemClock } from "../time/clock.ts";
import { formatTimestamp } from "../time/timestamp.ts";
import { type HomeConfig, readHomeConfig } from "../home/config.ts";
import {
  agentSubdir,
  anchorPath,
  type HomeLayout,
  homeLayout,
  ledgerPath,
} from "../home/layout.ts";
import { openKeyStore } from "../keys/keystore.ts";
import { buildEvent, encodeEvent } from "../ledger/events.ts";
import { type Ledger, openLedger } from "../ledger/ledger.ts";
import { FileVersionStore } from "../trust/version_store_file.ts";
import { AgentProcess, type SupervisorEventFields } from "./agent_process.ts";
import { EventBatcher } from "./event_batcher.ts";
import { CausalOrder } from "./causal_order.ts";
import { createAgentFolders } from "./folders.ts";
import { buildHandover } from "./handover.ts";
import { preflight } from "./preflight.ts";
import { checkReportLine } from "./report_line.ts";
import type { AgentStatus, SupervisorStatus } from "./status.ts";
import { writeSupervisorStatus } from "./status.ts";
import { assertSafeTree } from "./tree_check.ts";

/** The supervisor's identity: ledger writer, checkpoint signer, reporter of its own events. */
export const SUPERVISOR_AGENT = "supervisor";

/** Options for {@linkcode startSupervisor}. */
export interface StartSupervisorOptions {
  /** The SAOE home (resolved with `Deno.realPath`: Deno checks paths as written). */
  home: string;
  /** The repository root (agent entry points and tool modules). */
  repo: string;
  clock?: Clock;
  /** Inbox transport handed to agents; `poll` only for the benchmark baseline. */
  transport?: "watch" | "poll";
  /** Operator log lines (supervisor notices and agent stderr); default `console.error`. */
  log?(line: string): void;
  /** Called on every agent state change. */
  onAgentChange?(status: AgentStatus): void;
  /** Grace period between SIGTERM and SIGKILL at shutdown; default 10 s. */
  stopTimeoutMs?: number;
  /** Checkpoint interval when the ledger grew; default 60 s. */
  checkpointIntervalMs?: number;
  /** Longest wait before a received event is appended; default 2 ms. */
  batchDelayMs?: number;
  /** {@linkcode Supervisor.ready} resolves at the latest after this; default 30 s. */
  readyTimeoutMs?: number;
  /** The Deno executable agents run with; default `Deno.execPath()`. */
  deno?: string;
}

/** The final checkpoint, or why there is none. */
export interface StopReport {
  checkpoint?: { treeSize: number; headHash: string };
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
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function refusal(err: unknown, file: string, fix: string): SaoeError {
  const code = err instanceof SaoeError ? err.code : "io_error";
  return new SaoeError(
    code,
    `Refusing to start: ${file}: ${describe(err)}. Fix: ${fix}`,
    { file },
    { cause: err },
  );
}

async function resolveHome(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch (err: unknown) {
    throw new SaoeError(
      "bad_config",
      `Cannot start the pipeline: no SAOE home at ${path} (${
        err instanceof Deno.errors.NotFound ? "no such folder" : describe(err)
      }). Create one with "deno task saoe init --home ${path}" or run "saoe pipeline --init"`,
      { file: path },
    );
  }
}

function urlOf(listen: string | undefined): string | undefined {
  return listen === undefined ? undefined : `http://${listen}`;
}

/**
 * Verifies the home and starts every agent. Throws a refusal (nothing spawned)
 * when the home is unsafe or does not verify.
 *
 * @example
 * ```ts ignore
 * const supervisor = await startSupervisor({ home: ".saoe", repo: "." });
 * await supervisor.ready;
 * await supervisor.stop();
 * ```
 */
export async function startSupervisor(options: StartSupervisorOptions): Promise<Supervisor> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((line: string) => console.error(line));
  const root = await resolveHome(options.home);
  const repo = await Deno.realPath(options.repo);
  const home = homeLayout(root);
  const config = await readHomeConfig(home.config).catch((err: unknown) => {
    throw refusal(
      err,
      home.config,
      `correct it, or create the home with "deno task saoe init --home ${root}" (--force resets an existing one)`,
    );
  });
  await assertSafeTree(home);

  const keys = await openKeyStore(home.keys).catch((err: unknown) => {
    throw refusal(
      err,
      join(home.keys, "master.key"),
      "run the pipeline as the user who created the home, or re-create it",
    );
  });
  const secrets = await keys.loadAgent(SUPERVISOR_AGENT).catch((err: unknown) => {
    throw refusal(err, home.keys, "re-create the home (its supervisor key is missing)");
  });
  let signer: SigningKey;
  try {
    signer = await SigningKey.fromSeed(secrets.seed);
  } finally {
    secrets.seed.fill(0);
  }
  const storeDir = agentSubdir(home, SUPERVISOR_AGENT, "store");
  await Deno.mkdir(storeDir, { recursive: true, mode: 0o700 });
  const verified = await preflight({
    home,
    config,
    ageIdentity: secrets.ageIdentity,
    repo,
    clock,
    versionStore: new FileVersionStore(join(storeDir, "versions.json")),
    ...(options.deno !== undefined ? { deno: options.deno } : {}),
  });
  await createAgentFolders(home, verified.capsets.values());
  const flagsSha256 = new Map<string, string>();
  for (const [agent, command] of verified.commands) {
    flagsSha256.set(agent, await sha256Hex(utf8(JSON.stringify(command.args))));
    const exists = await Deno.lstat(command.entry).then((i) => i.isFile, () => false);
    if (!exists) {
      log(`supervisor: warning: ${command.entry} does not exist; agent "${agent}" will fail`);
    }
  }

  const ledger = await openLedger({
    path: ledgerPath(home),
    checkpointKey: signer,
    anchorPath: anchorPath(home),
    clock,
  }).catch((err: unknown) => {
    throw refusal(
      err,
      ledgerPath(home),
      "stop the other supervisor running on this home, or check the audit folder",
    );
  });
  return new Running({
    options,
    clock,
    log,
    home,
    repo,
    config,
    keys,
    signer,
    ledger,
    verified,
    flagsSha256,
  });
}

interface RunningInit {
  options: StartSupervisorOptions;
  clock: Clock;
  log: (line: string) => void;
  home: HomeLayout;
  repo: string;
  config: HomeConfig;
  keys: Awaited<ReturnType<typeof openKeyStore>>;
  signer: SigningKey;
  ledger: Ledger;
  verified: Awaited<ReturnType<typeof preflight>>;
  flagsSha256: Map<string, string>;
}

class Running implements Supervisor {
  readonly home: HomeLayout;
  readonly repo: string;
  readonly config: HomeConfig;
  readonly intakeUrl: string | undefined;
  readonly viewerUrl: string | undefined;
  readonly checkpointKey: PublicKeyEntry;
  readonly ready: Promise<AgentStatus[]>;
  readonly stopped: Promise<StopReport>;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #ledger: Ledger;
  readonly #batcher: EventBatcher;
  readonly #order: CausalOrder;
  readonly #agents: AgentProcess[] = [];
  readonly #startedAt: string;
  readonly #stopTimeoutMs: number;
  readonly #interval: ReturnType<typeof setInterval>;
  readonly #stoppedResolvers = Promise.withResolvers<StopReport>();
  #state: SupervisorStatus["state"] = "running";
  #stopping: Promise<StopReport> | undefined;
  #lastCheckpointSize = 0;
  #checkpointing: Promise<unknown> = Promise.resolve();
  #statusWriting = false;
  #statusDirty = false;
  #statusDone: Promise<void> = Promise.resolve();

  constructor(init: RunningInit) {
    const { options, verified, home } = init;
    this.home = home;
    this.repo = init.repo;
    this.config = init.config;
    this.#clock = init.clock;
    this.#log = init.log;
    this.#ledger = init.ledger;
    this.checkpointKey = { keyid: init.signer.keyid, publicKey: init.signer.publicKey };
    this.intakeUrl = urlOf(verified.capsets.get("intake")?.net[0]);
    this.viewerUrl = urlOf(verified.capsets.get("viewer")?.net[0]);
    this.stopped = this.#stoppedResolvers.promise;
    this.#startedAt = formatTimestamp(init.clock.now());
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.#batcher = new EventBatcher({
      ledger: init.ledger,
      ...(options.batchDelayMs !== undefined ? { delayMs: options.batchDelayMs } : {}),
      onError: (err) => this.#log(`supervisor: cannot append to the ledger: ${describe(err)}`),
    });
    this.#order = new CausalOrder({ emit: (bytes) => this.#batcher.push(bytes) });
    this.#lastCheckpointSize = init.ledger.head().size;
    for (const agent of init.config.agents) {
      const command = verified.commands.get(agent)!;
      this.#agents.push(
        new AgentProcess({
          name: agent,
          command,
          flagsSha256: init.flagsSha256.get(agent)!,
          cwd: init.repo,
          clock: init.clock,
          handover: () =>
            buildHandover({
              agent,
              home,
              repo: init.repo,
              config: init.config,
              keys: init.keys,
              ...(options.transport !== undefined ? { transport: options.transport } : {}),
            }),
          checkLine: (line) =>
            checkReportLine(line, { agent, directory: verified.directory, clock: init.clock }),
          onEvent: (bytes, event) => this.#order.push(event, bytes),
          onSupervisorEvent: (fields) => this.#emit(fields),
          onChange: (status) => {
            this.#writeStatus();
            options.onAgentChange?.(status);
          },
          log: init.log,
        }),
      );
    }
    for (const agent of this.#agents) agent.start();
    const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    let readyTimer: ReturnType<typeof setTimeout> | undefined;
    this.ready = Promise.race([
      Promise.all(this.#agents.map((a) => a.firstSettled)),
      new Promise<void>((resolve) => {
        readyTimer = setTimeout(resolve, readyTimeoutMs);
      }),
    ]).then(() => {
      clearTimeout(readyTimer);
      return this.agents();
    });
    this.#interval = setInterval(() => {
      this.#checkpointing = this.#checkpoint("interval").catch((err: unknown) =>
        this.#log(`supervisor: checkpoint failed: ${describe(err)}`)
      );
    }, options.checkpointIntervalMs ?? 60_000);
    this.#writeStatus();
  }

  agents(): AgentStatus[] {
    return this.#agents.map((a) => a.status());
  }

  #emit(fields: SupervisorEventFields): void {
    const event = buildEvent({ ...fields, agent: SUPERVISOR_AGENT }, this.#clock);
    this.#batcher.push(encodeEvent(event));
  }

  /** Appends a `checkpoint` event and signs the head that includes it. */
  async #checkpoint(reason: "interval" | "shutdown") {
    const release = this.#batcher.hold();
    try {
      const size = this.#ledger.head().size;
      if (reason === "interval" && size <= this.#lastCheckpointSize) return undefined;
      this.#ledger.append([
        encodeEvent(buildEvent({
          type: "checkpoint",
          agent: SUPERVISOR_AGENT,
          detail: { tree_size: size + 1, reason },
        }, this.#clock)),
      ]);
      const written = await this.#ledger.checkpoint();
      this.#lastCheckpointSize = written.treeSize;
      return written;
    } finally {
      release();
    }
  }

  #writeStatus(): void {
    if (this.#statusWriting) {
      this.#statusDirty = true;
      return;
    }
    this.#statusWriting = true;
    this.#statusDone = (async () => {
      do {
        this.#statusDirty = false;
        const now = formatTimestamp(this.#clock.now());
        try {
          await writeSupervisorStatus(this.home, {
            format: 1,
            pid: Deno.pid,
            home: this.home.root,
            state: this.#state,
            started_at: this.#startedAt,
            updated_at: now,
            agents: this.agents(),
          });
        } catch (err: unknown) {
          this.#log(`supervisor: cannot write the status file: ${describe(err)}`);
        }
      } while (this.#statusDirty);
      this.#statusWriting = false;
    })();
  }

  stop(): Promise<StopReport> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  kill(): void {
    for (const agent of this.#agents) agent.kill();
    void this.stop();
  }

  async #stop(): Promise<StopReport> {
    clearInterval(this.#interval);
    this.#state = "stopping";
    this.#writeStatus();
    await Promise.all(this.#agents.map((a) => a.stop(this.#stopTimeoutMs)));
    this.#order.close();
    await this.#checkpointing;
    const report: StopReport = {};
    try {
      const written = await this.#checkpoint("shutdown");
      if (written !== undefined) {
        report.checkpoint = { treeSize: written.treeSize, headHash: written.headHash };
      }
    } catch (err: unknown) {
      report.error = `Cannot write the final checkpoint: ${describe(err)}`;
    }
    if (!this.#batcher.close()) {
      report.error ??= `Cannot append ${this.#batcher.pending} events to the ledger`;
    }
    this.#ledger.close();
    this.#state = "stopped";
    this.#writeStatus();
    await this.#statusDone;
    this.#stoppedResolvers.resolve(report);
    return report;
  }
}
