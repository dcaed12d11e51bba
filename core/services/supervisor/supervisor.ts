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
 * Key ceremonies while it runs (`saoe keys rotate|revoke|renew`, `saoe publish`):
 * the supervisor watches `trust/` and `vault/` (and reloads on SIGHUP or
 * {@linkcode Supervisor.reload}), re-runs the whole startup verification on the
 * new state and, only if it verifies, applies it: an agent whose keys were
 * revoked is killed and not restarted (status `revoked`), every other agent is
 * restarted one at a time (SIGTERM drains its in-flight work; its inbox waits for
 * the new process, so nothing is dropped) so it loads the new root, directory,
 * capsets and its new secrets, the revoked agent's receivers first; then
 * `key_rotated` records what changed (`detail.kind`: `dispatcher`, `agent`,
 * `revoked`, `renewed` when only statement versions changed, `reloaded` for any
 * other verified change such as a published template). A state that does not verify (a ceremony
 * half written, a planted file) is not applied: the agents keep running on the
 * state verified before. Agents load their trust once at start, which is why
 * they are restarted rather than told; a report line of an agent is checked
 * against the directory it was started with or the one in force.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex, utf8 } from "../../primitives/crypto/bytes.ts";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { PublicKeyEntry } from "../../primitives/dsse/types.ts";
import { type Clock, systemClock } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { type HomeConfig, readHomeConfig } from "../../domain/home/config.ts";
import {
  agentSubdir,
  anchorPath,
  type HomeLayout,
  homeLayout,
  ledgerPath,
} from "../../domain/home/layout.ts";
import { openKeyStore } from "../../domain/keys/keystore.ts";
import { buildEvent, encodeEvent } from "../../domain/ledger/events.ts";
import { type Ledger, openLedger } from "../../domain/ledger/ledger.ts";
import { FileVersionStore } from "../../domain/trust/version_store_file.ts";
import type { VersionStore } from "../../domain/trust/version_store.ts";
import type { AgentDirectory } from "../../domain/trust/agent_directory.ts";
import type { AgentCommand } from "./agent_command.ts";
import { AgentProcess, type SupervisorEventFields } from "./agent_process.ts";
import { diffTrust, type TrustDiff, trustFingerprint } from "./reload.ts";
import { type TrustWatch, watchTrust } from "./trust_watch.ts";
import type { CurrentKeys } from "./report_line.ts";
import { EventBatcher } from "./event_batcher.ts";
import { CausalOrder } from "./causal_order.ts";
import { inboxDepth } from "../../domain/queue/depth.ts";
import { queuePaths } from "../../domain/queue/paths.ts";
import { createAgentFolders } from "./folders.ts";
import { buildHandover } from "./handover.ts";
import { preflight, type VerifiedHome } from "./preflight.ts";
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
  /** Watch `trust/` and `vault/` and reload on a change; default true. */
  watchTrust?: boolean;
  /** Quiet time after a change before the reload; default 300 ms. */
  watchDebounceMs?: number;
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
  const versionStore = new FileVersionStore(join(storeDir, "versions.json"));
  // before verifying: a change made during the verification is seen as a change later
  const fingerprint = await trustFingerprint(home);
  const verified = await preflight({
    home,
    config,
    ageIdentity: secrets.ageIdentity,
    repo,
    clock,
    versionStore,
    ...(options.deno !== undefined ? { deno: options.deno } : {}),
  });
  await createAgentFolders(home, verified.capsets.values());
  const flagsSha256 = await commandHashes(verified.commands);
  for (const [agent, command] of verified.commands) {
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
    versionStore,
    fingerprint,
  });
}

async function commandHashes(
  commands: ReadonlyMap<string, AgentCommand>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [agent, command] of commands) {
    out.set(agent, await sha256Hex(utf8(JSON.stringify(command.args))));
  }
  return out;
}

function hasCurrentKey(directory: AgentDirectory, agent: string, nowMs: number): boolean {
  return directory.senderKeys(agent, nowMs).status === "ok";
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
  verified: VerifiedHome;
  flagsSha256: Map<string, string>;
  versionStore: VersionStore;
  fingerprint: string;
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
  readonly #statusInterval: ReturnType<typeof setInterval>;
  /** The status last written, without its time (a rewrite is skipped when equal). */
  #statusWritten = "";
  readonly #stoppedResolvers = Promise.withResolvers<StopReport>();
  #state: SupervisorStatus["state"] = "running";
  #stopping: Promise<StopReport> | undefined;
  #lastCheckpointSize = 0;
  #checkpointing: Promise<unknown> = Promise.resolve();
  #statusWriting = false;
  #statusDirty = false;
  #statusDone: Promise<void> = Promise.resolve();
  readonly #options: StartSupervisorOptions;
  readonly #keys: RunningInit["keys"];
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
    this.#interval = setInterval(() => {
      this.#checkpointing = this.#checkpoint("interval").catch((err: unknown) =>
        this.#log(`supervisor: checkpoint failed: ${describe(err)}`)
      );
    }, options.checkpointIntervalMs ?? 60_000);
    // queue depths and dead letters change without agent state changes: refresh the view
    this.#statusInterval = setInterval(() => this.#writeStatus(), STATUS_REFRESH_MS);
    this.#writeStatus();
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
      handover: () => {
        this.#startedWith.set(agent, this.#verified.directory);
        return buildHandover({
          agent,
          home,
          repo: this.repo,
          config: this.config,
          keys: this.#keys,
          ...(this.viewerUrl !== undefined ? { viewerUrl: this.viewerUrl } : {}),
        });
      },
      checkLine: (line) =>
        checkReportLine(line, { agent, directory: this.#keysOf(agent), clock: this.#clock }),
      onEvent: (bytes, event) => this.#order.push(event, bytes),
      onSupervisorEvent: (fields) => this.#emit(fields),
      onChange: (status) => {
        this.#writeStatus();
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
      const secrets = await this.#keys.loadAgent(SUPERVISOR_AGENT);
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
      await createAgentFolders(this.home, verified.capsets.values());
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
          },
        });
      }
      return { applied: false, reason: "refused", error: why };
    }
    if (this.#state !== "running") return { applied: false, reason: "stopping" };
    const before = this.#verified;
    const now = this.#clock.now();
    const diff = diffTrust(before, verified, this.config.agents, now);
    this.#verified = verified;
    this.#flagsSha256 = await commandHashes(verified.commands);
    this.#fingerprint = fingerprint;
    const revoked = this.config.agents.filter((a) => !hasCurrentKey(verified.directory, a, now));
    for (const agent of revoked) {
      const process = this.#agentProcess(agent);
      if (process.status().state === "revoked") continue;
      this.#log(`supervisor: agent "${agent}" holds no valid key any more; stopping it`);
      // revoked means untrusted: no drain, its remaining work is not wanted
      process.kill();
      await process.done;
      process.markRevoked();
    }
    // the revoked agents' receivers first: until restarted they hold the old directory
    const receivers = this.config.agents.filter((a) =>
      verified.capsets.get(a)?.receives.some((r) => revoked.includes(r.from)) === true
    );
    const order = [...new Set([...receivers, ...this.config.agents])]
      .filter((a) => !revoked.includes(a));
    const restarted: string[] = [];
    const readyTimeoutMs = this.#options.readyTimeoutMs ?? 30_000;
    for (const agent of order) {
      if (this.#state !== "running") break;
      const command = verified.commands.get(agent)!;
      const flagsSha256 = this.#flagsSha256.get(agent)!;
      const current = this.#agentProcess(agent);
      if (current.ended) {
        // stopped for good earlier (revoked, now restored): a fresh supervised process
        const index = this.#agents.indexOf(current);
        const fresh = this.#makeAgent(agent);
        this.#agents[index] = fresh;
        fresh.start();
        await Promise.race([
          fresh.firstSettled,
          new Promise((r) => setTimeout(r, readyTimeoutMs)),
        ]);
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
    const capsetVersions = (h: VerifiedHome) =>
      [...h.capsets].map(([a, c]) => `${a}:${c.version}`).sort().join(",");
    const versionsChanged = diff.rootVersion !== diff.previousRootVersion ||
      diff.directoryVersion !== diff.previousDirectoryVersion ||
      before.toolManifest.version !== verified.toolManifest.version ||
      capsetVersions(before) !== capsetVersions(verified);
    // every applied reload is recorded: what a ceremony changed, seen from here
    this.#emit({
      type: "key_rotated",
      detail: {
        kind: diff.dispatcherKeysChanged
          ? "dispatcher"
          : diff.revoked.length > 0
          ? "revoked"
          : diff.rotated.length + diff.restored.length > 0
          ? "agent"
          : versionsChanged
          ? "renewed"
          : "reloaded",
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
    this.#writeStatus();
    return { applied: true, diff, restarted, revoked };
  }

  #agentProcess(agent: string): AgentProcess {
    return this.#agents.find((a) => a.name === agent)!;
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

  /** Agent states with their inbox depth and dead-letter count (the viewer cannot read those). */
  async #agentsWithQueues(): Promise<AgentStatus[]> {
    return await Promise.all(
      this.agents().map(async (a) => {
        const capset = this.#verified.capsets.get(a.name);
        const paths = queuePaths(this.home, a.name);
        const senders = capset?.receives.map((r) => r.from) ?? [];
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

  #writeStatus(): void {
    if (this.#statusWriting) {
      this.#statusDirty = true;
      return;
    }
    this.#statusWriting = true;
    this.#statusDone = (async () => {
      do {
        this.#statusDirty = false;
        try {
          const content = {
            format: 1 as const,
            pid: Deno.pid,
            home: this.home.root,
            state: this.#state,
            started_at: this.#startedAt,
            agents: await this.#agentsWithQueues(),
          };
          // rewritten only when something changed: an idle pipeline writes nothing
          // (a rewrite every few seconds woke every watcher of audit/, the viewer's)
          const key = JSON.stringify(content);
          if (key !== this.#statusWritten) {
            const now = formatTimestamp(this.#clock.now());
            await writeSupervisorStatus(this.home, { ...content, updated_at: now });
            this.#statusWritten = key;
          }
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
    clearInterval(this.#statusInterval);
    this.#state = "stopping";
    this.#watch?.close();
    try {
      Deno.removeSignalListener("SIGHUP", this.#onHangup);
    } catch {
      // never added
    }
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

/** How often the status file is refreshed while nothing changes state. */
const STATUS_REFRESH_MS = 5_000;

async function countEntries(dir: string): Promise<number> {
  let n = 0;
  for await (const entry of Deno.readDir(dir)) if (entry.name.endsWith(".satl")) n++;
  return n;
}
