/**
 * A running supervisor: process control. It spawns every agent of
 * `config.agents` with the command line its verified capset derives (an agent
 * the directory lists no valid key for is not started), appends their verified
 * audit events and its own in causal order and in batches, signs a checkpoint
 * every interval the ledger grew, keeps `audit/status.json` current, applies a
 * verified change of the trust state ({@linkcode planReload} decides what it
 * stops and restarts) unless it is below the ledger's high-water mark, records
 * the trust state in force as `trust_versions` (at start and per applied
 * reload) and hands its floor to every agent it starts, appends the operator
 * actions the CLI hands it ({@linkcode OperatorRequests}), and stops everything
 * cleanly.
 *
 * @module
 */
import { applyHomeOwnership } from "./home_ownership.ts";
import { type StrayMove, sweepStrays } from "./stray_sweep.ts";
import { codePinsDiffer } from "../../domain/code/manifest.ts";
import { CodeChecker } from "../../domain/code/code_check.ts";
import { SaoeError } from "../../primitives/errors.ts";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { PublicKeyEntry } from "../../primitives/dsse/types.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { systemTimers, type TimerHandle, type Timers } from "../../primitives/time/timers.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import type { HomeConfig } from "../../domain/home/config.ts";
import { type HomeLayout, SUPERVISOR_ID, supervisorRequestsDir } from "../../domain/home/layout.ts";
import type { KeyStore } from "../../domain/keys/keystore.ts";
import { type AuditEvent, buildEvent, encodeEvent } from "../../domain/ledger/events.ts";
import { PublishedOnce } from "./published_once.ts";
import { trustVersionsEvent } from "../../domain/ledger/trust_versions.ts";
import {
  assertTrustFloor,
  raiseFloor,
  revokedKeyIds,
  type TrustFloor,
  TrustFloorError,
} from "../../domain/trust/trust_floor.ts";
import type { Ledger } from "../../domain/ledger/ledger.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import type { WitnessedLedger } from "./ledger_start.ts";
import { Witnessing } from "./witnessing.ts";
import type { LocalWitnesses } from "./local_witnesses.ts";
import type { VersionStore } from "../../domain/trust/version_store.ts";
import type { AgentDirectory } from "../../domain/trust/agent_directory.ts";
import { commandHashes } from "./agent_command.ts";
import { AgentProcess, type SupervisorEventFields } from "./agent_process.ts";
import { listsCurrentKey, planReload, trustFingerprint } from "./reload.ts";
import { OperatorRequests } from "./operator_requests.ts";
import { trustStateOf, trustVersionsOf } from "./trust_mark.ts";
import { type TrustWatch, watchTrust } from "./trust_watch.ts";
import type { CurrentKeys } from "./report_line.ts";
import { EventBatcher } from "./event_batcher.ts";
import { CausalOrder } from "./causal_order.ts";
import { createAgentFolders } from "./folders.ts";
import { sandboxIdsFor } from "./sandbox_check.ts";
import { buildHandover } from "./handover.ts";
import { preflight, type VerifiedHome } from "./preflight.ts";
import { checkReportLine } from "./report_line.ts";
import type { AgentStatus, SupervisorStatus } from "./status.ts";
import { StatusWriter } from "./status_writer.ts";
import type { ReloadReport, StartSupervisorOptions, StopReport, Supervisor } from "./types.ts";

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves when `promise` settles or after `ms`, whichever first (the timer is cleared). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.then(() => {}, () => {}),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

function hasCurrentKey(directory: AgentDirectory, agent: string, nowMs: number): boolean {
  return directory.senderKeys(agent, nowMs).status === "ok";
}

/** What {@linkcode Running} starts from: a home that verified, its ledger open. */
export interface RunningInit {
  options: StartSupervisorOptions;
  clock: Clock;
  log: (line: string) => void;
  home: HomeLayout;
  repo: string;
  config: HomeConfig;
  keys: KeyStore;
  signer: SigningKey;
  ledger: Ledger;
  /** The ledger as it verified against its witnesses at start. */
  witnessed: WitnessedLedger;
  /** The witnesses this supervisor started on this machine (stopped with it). */
  localWitnesses: LocalWitnesses;
  /** The keys trusted to sign this log's checkpoints. */
  logKeys: TrustedKeySet;
  verified: VerifiedHome;
  flagsSha256: Map<string, string>;
  versionStore: VersionStore;
  fingerprint: string;
  /** The high-water mark of the trust state, read from the verified ledger. */
  floor: TrustFloor;
  /** Operator request ids the ledger already records. */
  seenRequests: Set<string>;
  /** What the start-up sweep moved aside (recorded as `stray_moved`). */
  strays?: readonly StrayMove[];
}

/** The supervisor once started (see {@linkcode startSupervisor}). */
export class Running implements Supervisor {
  readonly home: HomeLayout;
  readonly repo: string;
  readonly config: HomeConfig;
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
  /** The timers of the checkpoint schedule (and of the status refresh). */
  readonly #timers: Timers;
  /** Armed by the first append after a checkpoint: a checkpoint follows within the interval. */
  #checkpointTimer: TimerHandle | undefined;
  readonly #checkpointMs: number;
  readonly #checkpointRecords: number;
  readonly #witnessing: Witnessing;
  readonly #publishedOnce = new PublishedOnce();
  readonly #localWitnesses: LocalWitnesses;
  #lastSize = 0;
  readonly #status: StatusWriter;
  readonly #stoppedResolvers = Promise.withResolvers<StopReport>();
  #state: SupervisorStatus["state"] = "running";
  #stopping: Promise<StopReport> | undefined;
  #lastCheckpointSize = 0;
  #checkpointing: Promise<unknown> = Promise.resolve();
  readonly #options: StartSupervisorOptions;
  readonly #keys: RunningInit["keys"];
  /** Hashes each agent's code against the signed code manifest before it spawns. */
  readonly #code: CodeChecker;
  readonly #versionStore: VersionStore;
  #verified: VerifiedHome;
  #flagsSha256: Map<string, string>;
  #fingerprint: string;
  /** The trust state whose refusal was last audited. */
  #refusedFingerprint: string | undefined;
  /** The directory each agent's current process was handed over with. */
  readonly #startedWith = new Map<string, AgentDirectory>();
  #reloadChain: Promise<unknown> = Promise.resolve();
  #pendingReload: Promise<ReloadReport> | undefined;
  #watch: TrustWatch | undefined;
  /** The floor every trust state must meet: the ledger's mark raised by what verified since. */
  #floor: TrustFloor;
  #requests: OperatorRequests | undefined;
  /** Events whose caller waits until they are in the ledger, by their bytes. */
  readonly #appendWaiters = new Map<Uint8Array, () => void>();
  readonly #onHangup = () => {
    this.#log("supervisor: SIGHUP: re-verifying the trust state");
    void this.reload();
  };

  constructor(init: RunningInit) {
    const { options, verified, home } = init;
    this.#options = options;
    this.#keys = init.keys;
    this.#versionStore = init.versionStore;
    this.#verified = verified;
    this.#flagsSha256 = init.flagsSha256;
    this.#fingerprint = init.fingerprint;
    this.#floor = raiseFloor(init.floor, trustVersionsOf(verified));
    this.home = home;
    this.repo = init.repo;
    this.#code = new CodeChecker(init.repo);
    this.config = init.config;
    this.#clock = init.clock;
    this.#log = init.log;
    this.#ledger = init.ledger;
    this.checkpointKey = { keyid: init.signer.keyid, publicKey: init.signer.publicKey };
    this.stopped = this.#stoppedResolvers.promise;
    this.#startedAt = formatTimestamp(init.clock.now());
    this.#status = new StatusWriter({
      home,
      startedAt: this.#startedAt,
      clock: init.clock,
      log: init.log,
      source: {
        state: () => this.#state,
        agents: () => this.agents(),
        capset: (agent) => this.#verified.capsets.get(agent),
        ledger: () => {
          // after the ledger closed at shutdown, its last size stands
          if (this.#state !== "stopped") this.#lastSize = this.#ledger.head().size;
          const witnessed = this.#witnessing.witnessedSize;
          return {
            size: this.#lastSize,
            witnessed,
            unwitnessed: Math.max(0, this.#lastSize - witnessed),
          };
        },
        witnesses: () => this.#witnessing.states(),
        sandbox: () => ({
          uids: sandboxIdsFor(this.config) === undefined ? "shared" : "per_agent",
        }),
      },
      ...(options.timers !== undefined ? { timers: options.timers } : {}),
      ...(options.onStatusWritten !== undefined ? { onWritten: options.onStatusWritten } : {}),
    });
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.#timers = options.timers ?? systemTimers;
    this.#checkpointMs = options.checkpointIntervalMs ?? 1_000;
    this.#checkpointRecords = options.checkpointRecords ?? 256;
    this.#localWitnesses = init.localWitnesses;
    this.#witnessing = new Witnessing({
      ledger: init.ledger,
      policy: init.witnessed.policy,
      origin: init.witnessed.origin,
      logKeys: init.logKeys,
      sizes: init.witnessed.mark.sizes,
      clock: init.clock,
      log: init.log,
      onChange: () => this.#status.write(),
      timers: this.#timers,
    });
    const ledger = init.ledger;
    this.#batcher = new EventBatcher({
      // every append counts toward the next checkpoint (the checkpoint's own event does not)
      ledger: {
        append: (events) => {
          const seqs = ledger.append(events);
          this.#grew(seqs.at(-1) ?? 0);
          if (this.#appendWaiters.size > 0) {
            for (const bytes of events) {
              const appended = this.#appendWaiters.get(bytes);
              this.#appendWaiters.delete(bytes);
              appended?.();
            }
          }
          return seqs;
        },
      },
      ...(options.batchDelayMs !== undefined ? { delayMs: options.batchDelayMs } : {}),
      onError: (err) => this.#log(`supervisor: cannot append to the ledger: ${describe(err)}`),
    });
    this.#order = new CausalOrder({ emit: (bytes) => this.#batcher.push(bytes) });
    this.#lastCheckpointSize = init.ledger.head().size;
    // the ledger's high-water mark of the trust state, raised to what verified now
    this.#emit(trustVersionsEvent(trustVersionsOf(verified), this.#floor, "start", init.clock));
    for (const move of init.strays ?? []) this.#emitStray(move);
    this.#requests = new OperatorRequests({
      dir: supervisorRequestsDir(home),
      key: this.checkpointKey,
      clock: init.clock,
      skewMs: init.config.skew_ms,
      seen: init.seenRequests,
      append: (event) => this.#appendDurable(event),
      log: init.log,
    });
    const now = init.clock.now();
    for (const agent of init.config.agents) {
      const process = this.#makeAgent(agent);
      this.#agents.push(process);
      // an agent the directory lists no valid key for is not started: its reports and
      // envelopes would be refused everywhere (saoe keys revoke)
      if (hasCurrentKey(verified.directory, agent, now)) process.start();
      else {
        process.markRevoked();
        this.#log(
          `supervisor: agent "${agent}" is revoked (no valid key in the directory); not started`,
        );
      }
    }
    if (options.watchTrust !== false) {
      this.#watch = watchTrust({
        paths: [home.trust, home.vault],
        ...(options.watchDebounceMs !== undefined ? { debounceMs: options.watchDebounceMs } : {}),
        onChange: () => void this.reload(),
        onError: (err) => this.#log(`supervisor: cannot watch the trust state: ${describe(err)}`),
      });
    }
    try {
      Deno.addSignalListener("SIGHUP", this.#onHangup);
    } catch {
      // no SIGHUP on this platform: the watch and reload() remain
    }
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
    this.#status.start();
  }

  /** `http://127.0.0.1:PORT` of intake, once known (a port-0 grant: once it listens). */
  get intakeUrl(): string | undefined {
    return this.#urlOf("intake");
  }

  /** The viewer's URL, once known. */
  get viewerUrl(): string | undefined {
    return this.#urlOf("viewer");
  }

  /**
   * Where `agent` serves: the port its capset grants, or, for a grant of port 0,
   * the address its current process reported when it became ready.
   */
  #urlOf(agent: string): string | undefined {
    const grant = this.#verified.capsets.get(agent)?.net[0];
    if (grant === undefined) return undefined;
    if (!grant.endsWith(":0")) return `http://${grant}`;
    const listen = this.#agents.find((a) => a.name === agent)?.status().listen;
    return listen === undefined ? undefined : `http://${listen}`;
  }

  /**
   * The viewer's URL for intake's links. A viewer on an assigned port is known
   * only once it listens: intake's handover waits for it (at most the ready
   * timeout; without it intake links to no viewer).
   */
  async #viewerUrlForIntake(): Promise<string | undefined> {
    const viewer = this.#agents.find((a) => a.name === "viewer");
    if (viewer !== undefined && this.viewerUrl === undefined) {
      await settledWithin(viewer.firstSettled, this.#options.readyTimeoutMs ?? 30_000);
    }
    return this.viewerUrl;
  }

  agents(): AgentStatus[] {
    return this.#agents.map((a) => a.status());
  }

  trustVersions(): { root: number; directory: number } {
    return { root: this.#verified.root.version, directory: this.#verified.directory.version };
  }

  #makeAgent(agent: string): AgentProcess {
    const home = this.home;
    const options = this.#options;
    return new AgentProcess({
      name: agent,
      command: this.#verified.commands.get(agent)!,
      flagsSha256: this.#flagsSha256.get(agent)!,
      cwd: this.repo,
      clock: this.#clock,
      handover: async () => {
        this.#startedWith.set(agent, this.#verified.directory);
        const viewerUrl = agent === "intake" ? await this.#viewerUrlForIntake() : undefined;
        return await buildHandover({
          agent,
          home,
          repo: this.repo,
          config: this.config,
          keys: this.#keys,
          trustFloor: this.#floor,
          ...(viewerUrl !== undefined ? { viewerUrl } : {}),
        });
      },
      checkLine: (line) =>
        checkReportLine(line, { agent, directory: this.#keysOf(agent), clock: this.#clock }),
      onEvent: (bytes, event) => {
        if (this.#publishedOnce.admit(event)) this.#order.push(event, bytes);
        else {
          this.#log(
            `supervisor: ${agent} reported session ${event.session_id} published again (a resumed envelope); the ledger keeps the first`,
          );
        }
      },
      onSupervisorEvent: (fields) => this.#emit(fields),
      beforeSpawn: async () => {
        // what it can see holds no link, FIFO or device (moved aside, audited)
        const command = this.#verified.commands.get(agent)!;
        const roots = command.sandbox.binds.map((b) => b.path).filter((p) =>
          p.startsWith(`${home.root}/`)
        );
        for (const move of await sweepStrays(home, roots, this.#clock)) {
          this.#log(`supervisor: moved ${move.kind} ${move.from} aside to ${move.to}`);
          this.#emitStray(move);
        }
        // the code it is about to run is the code the dispatcher signed, file by file
        await this.#code.check(this.#verified.codeManifest, agent);
      },
      onChange: (status) => {
        this.#status.write();
        options.onAgentChange?.(status);
      },
      log: this.#log,
    });
  }

  /**
   * The keys a report line of `agent` may be signed with: those of the directory
   * its process was started with (a process started before a rotation still
   * holds its old key) and those of the directory in force.
   */
  #keysOf(agent: string): CurrentKeys {
    const directories = [...new Set([this.#startedWith.get(agent), this.#verified.directory])]
      .filter((d): d is AgentDirectory => d !== undefined);
    return {
      currentKeys(name: string, nowMs: number) {
        const keys = [];
        let refusal: unknown;
        for (const directory of directories) {
          try {
            keys.push(...directory.currentKeys(name, nowMs));
          } catch (err: unknown) {
            refusal = err;
          }
        }
        if (keys.length === 0) throw refusal;
        return keys;
      },
    };
  }

  reload(): Promise<ReloadReport> {
    // one queued run covers every request made before it starts
    if (this.#pendingReload !== undefined) return this.#pendingReload;
    const run = this.#reloadChain.then(() => {
      this.#pendingReload = undefined;
      return this.#reload();
    });
    this.#pendingReload = run;
    this.#reloadChain = run.catch(() => {});
    return run;
  }

  async #reload(): Promise<ReloadReport> {
    if (this.#state !== "running") return { applied: false, reason: "stopping" };
    const fingerprint = await trustFingerprint(this.home);
    if (fingerprint === this.#fingerprint) return { applied: false, reason: "unchanged" };
    let verified: VerifiedHome;
    try {
      const secrets = await this.#keys.loadAgent(SUPERVISOR_ID);
      secrets.seed.fill(0);
      verified = await preflight({
        home: this.home,
        config: this.config,
        ageIdentity: secrets.ageIdentity,
        repo: this.repo,
        clock: this.#clock,
        versionStore: this.#versionStore,
        ...(this.#options.deno !== undefined ? { deno: this.#options.deno } : {}),
      });
      // not below the ledger's mark: a copy of earlier files (and version stores) put back
      await assertTrustFloor(trustStateOf(this.home, verified), this.#floor, this.#clock.now());
      await createAgentFolders(this.home, verified.capsets.values());
      // the folders agents write are owned at start only, while no agent runs: chown follows
      // a symlink a running agent could swap in (a folder a reload adds is owned at the next
      // start); what a ceremony rewrote in vault/ and trust/ is re-owned now
      await applyHomeOwnership(
        this.home,
        [...verified.capsets.values()],
        sandboxIdsFor(this.config),
        { agentFolders: false },
      );
    } catch (err: unknown) {
      // a ceremony half written, or a planted file: keep what verified before
      const why = describe(err).replace(/^Refusing to start: /, "");
      this.#log(
        `supervisor: a change to the trust state is not applied (agents keep the state verified before): ${why}`,
      );
      // audited once per refused state (a rollback, a forged or expired statement…)
      if (fingerprint !== this.#refusedFingerprint) {
        this.#refusedFingerprint = fingerprint;
        this.#emit({
          type: "trust_refused",
          reason: err instanceof SaoeError ? err.code : "io_error",
          detail: {
            message: why.slice(0, 500),
            root_version: this.#verified.root.version,
            directory_version: this.#verified.directory.version,
            ...(err instanceof TrustFloorError
              ? { kind: err.kind, version: err.version, recorded_version: err.recorded }
              : {}),
          },
        });
      }
      return { applied: false, reason: "refused", error: why };
    }
    const revokedIds = await revokedKeyIds(
      this.#verified.directory,
      verified.directory,
      this.#clock.now(),
    );
    if (this.#state !== "running") return { applied: false, reason: "stopping" };
    const plan = planReload(this.#verified, verified, this.config.agents, this.#clock.now());
    const { diff, revoked } = plan;
    // a re-pinned agent starts its new code; a refused one is checked again
    const alsoRestart = this.config.agents.filter((agent) =>
      !plan.restartOrder.includes(agent) && !revoked.includes(agent) &&
      (codePinsDiffer(this.#verified.codeManifest, verified.codeManifest, agent) ||
        this.#agentProcess(agent).status().state === "refused")
    );
    this.#verified = verified;
    // the mark goes up before any agent restarts: each is handed the new floor
    this.#floor = raiseFloor(this.#floor, trustVersionsOf(verified), revokedIds);
    this.#emit(trustVersionsEvent(trustVersionsOf(verified), this.#floor, "reload", this.#clock));
    this.#flagsSha256 = await commandHashes(verified.commands);
    this.#fingerprint = fingerprint;
    for (const agent of revoked) {
      const process = this.#agentProcess(agent);
      if (process.status().state === "revoked") continue;
      this.#log(`supervisor: agent "${agent}" holds no valid key any more; stopping it`);
      // revoked means untrusted: no drain, its remaining work is not wanted
      process.kill();
      await process.done;
      process.markRevoked();
    }
    const restarted: string[] = [];
    const readyTimeoutMs = this.#options.readyTimeoutMs ?? 30_000;
    for (const agent of [...plan.restartOrder, ...alsoRestart]) {
      if (this.#state !== "running") break;
      if (!(await this.#keysAgree(verified, agent))) {
        this.#log(
          `supervisor: agent "${agent}" is not restarted yet: its keys in keys/ are not the ones directory v${verified.directory.version} lists (a ceremony in progress); the directory it writes last restarts it`,
        );
        continue;
      }
      const command = verified.commands.get(agent)!;
      const flagsSha256 = this.#flagsSha256.get(agent)!;
      const current = this.#agentProcess(agent);
      if (current.ended) {
        // stopped for good earlier (revoked, now restored): a fresh supervised process
        const index = this.#agents.indexOf(current);
        const fresh = this.#makeAgent(agent);
        this.#agents[index] = fresh;
        fresh.start();
        await settledWithin(fresh.firstSettled, readyTimeoutMs);
      } else {
        await current.restart({
          command,
          flagsSha256,
          timeoutMs: this.#stopTimeoutMs,
          readyTimeoutMs,
        });
      }
      restarted.push(agent);
    }
    // every applied reload is recorded: what a ceremony changed, seen from here
    this.#emit({
      type: "key_rotated",
      detail: {
        kind: plan.kind,
        root_version: diff.rootVersion,
        previous_root_version: diff.previousRootVersion,
        directory_version: diff.directoryVersion,
        previous_directory_version: diff.previousDirectoryVersion,
        tool_manifest_version: verified.toolManifest.version,
        rotated: diff.rotated,
        revoked: diff.revoked,
        restored: diff.restored,
        restarted,
      },
    });
    this.#log(
      `supervisor: trust state reloaded (root v${diff.rootVersion}, directory v${diff.directoryVersion}); restarted ${restarted.length} agent(s)${
        revoked.length > 0 ? `, revoked: ${revoked.join(", ")}` : ""
      }`,
    );
    this.#status.write();
    return { applied: true, diff, restarted, revoked };
  }

  /** True when the key `agent` would be handed is one the verified directory lists as current. */
  async #keysAgree(verified: { directory: AgentDirectory }, agent: string): Promise<boolean> {
    let secrets;
    try {
      secrets = await this.#keys.loadAgent(agent);
    } catch {
      return true; // no secrets at all: the restart reports it as before
    }
    try {
      const key = await SigningKey.fromSeed(secrets.seed);
      return listsCurrentKey(verified.directory, agent, key.publicKey, this.#clock.now());
    } finally {
      secrets.seed.fill(0);
    }
  }

  #emitStray(move: StrayMove): void {
    this.#emit({
      type: "stray_moved",
      reason: "unsafe_path",
      detail: { from: move.from, to: move.to, kind: move.kind },
    });
  }

  #agentProcess(agent: string): AgentProcess {
    return this.#agents.find((a) => a.name === agent)!;
  }

  #emit(fields: SupervisorEventFields | AuditEvent): void {
    const event = "agent" in fields && "at" in fields
      ? fields
      : buildEvent({ ...fields, agent: SUPERVISOR_ID }, this.#clock);
    this.#batcher.push(encodeEvent(event));
  }

  /** Queues a supervisor event; resolves once it is in the ledger. */
  #appendDurable(event: AuditEvent): Promise<void> {
    const bytes = encodeEvent(event);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#appendWaiters.set(bytes, resolve);
    try {
      this.#batcher.push(bytes);
    } catch (err: unknown) {
      this.#appendWaiters.delete(bytes);
      reject(err);
    }
    return promise;
  }

  /**
   * The ledger grew to `size`: a checkpoint is due at once past
   * `checkpointRecords` records since the last one, else within the interval
   * (no timer runs while nothing is appended).
   */
  #grew(size: number): void {
    if (this.#state !== "running") return;
    if (size - this.#lastCheckpointSize >= this.#checkpointRecords) {
      this.#disarmCheckpoint();
      this.#checkpointNow();
    } else if (this.#checkpointTimer === undefined) {
      this.#checkpointTimer = this.#timers.setTimeout(() => {
        this.#checkpointTimer = undefined;
        this.#checkpointNow();
      }, this.#checkpointMs);
    }
  }

  #disarmCheckpoint(): void {
    if (this.#checkpointTimer !== undefined) this.#timers.clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = undefined;
  }

  /** Checkpoints and sends the checkpoint to the witnesses (one checkpoint at a time). */
  #checkpointNow(): void {
    this.#checkpointing = this.#checkpointing.then(async () => {
      const written = await this.#checkpoint("interval");
      if (written !== undefined) await this.#witnessing.submit(written);
    }).catch((err: unknown) => this.#log(`supervisor: checkpoint failed: ${describe(err)}`));
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
          agent: SUPERVISOR_ID,
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

  stop(): Promise<StopReport> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  kill(): void {
    for (const agent of this.#agents) agent.kill();
    void this.stop();
  }

  async #stop(): Promise<StopReport> {
    this.#disarmCheckpoint();
    this.#status.stop();
    this.#state = "stopping";
    this.#watch?.close();
    // a request that arrives from now on waits for the next start
    await this.#requests?.close();
    try {
      Deno.removeSignalListener("SIGHUP", this.#onHangup);
    } catch {
      // never added
    }
    this.#status.write();
    await Promise.all(this.#agents.map((a) => a.stop(this.#stopTimeoutMs)));
    this.#order.close();
    await this.#checkpointing;
    const report: StopReport = {};
    try {
      const written = await this.#checkpoint("shutdown");
      if (written !== undefined) {
        report.checkpoint = { treeSize: written.treeSize, headHash: written.headHash };
        // the final checkpoint is offered to the witnesses too; one that is down is shown
        await this.#witnessing.submit(written);
      }
    } catch (err: unknown) {
      report.error = `Cannot write the final checkpoint: ${describe(err)}`;
    }
    await this.#witnessing.close();
    report.witnessedSize = this.#witnessing.witnessedSize;
    await this.#localWitnesses.stop();
    if (!this.#batcher.close()) {
      report.error ??= `Cannot append ${this.#batcher.pending} events to the ledger`;
    }
    for (const appended of this.#appendWaiters.values()) appended();
    this.#appendWaiters.clear();
    this.#lastSize = this.#ledger.head().size;
    this.#ledger.close();
    this.#state = "stopped";
    this.#status.write();
    await this.#status.idle();
    this.#stoppedResolvers.resolve(report);
    return report;
  }
}
