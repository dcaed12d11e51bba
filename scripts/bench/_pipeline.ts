/**
 * A real pipeline for the benchmarks: a fresh home in a temp folder (intake and
 * the viewer on ports the system assigns, the person quota raised so one-at-a-time
 * submissions are never throttled, reconciliation scans every 10 minutes so
 * none falls inside the idle measurement), the supervisor started in this process with the transport
 * asked for, and a follower of the audit ledger that wakes on every change of
 * `audit/` (`Deno.watchFs`) and reads the new records from a read-only handle.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { readHomeConfig, writeHomeConfig } from "../../core/domain/home/config.ts";
import { type HomeLayout, ledgerPath } from "../../core/domain/home/layout.ts";
import { createOperatorToken, readOperatorToken } from "../../core/domain/keys/operator_token.ts";
import { type AuditEvent, decodeEvent } from "../../core/domain/ledger/events.ts";
import { type Ledger, openLedger } from "../../core/domain/ledger/ledger.ts";
import { startSupervisor, type Supervisor } from "../../core/services/supervisor/supervisor.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { pollingRepository } from "./polling_repo.ts";

/** The repository root (symlink-free, as the supervisor requires). */
export const REPO: string = await Deno.realPath(fileURLToPath(new URL("../../", import.meta.url)));

/** Reconciliation scan interval of a benchmark home (default homes: 30 s). */
export const RECONCILE_MS = 600_000;

/**
 * Copies the repository's vault sources into `dir`, with every agent that
 * listens (intake, the viewer) on a port the system assigns (`127.0.0.1:0`), so
 * a benchmark never collides with a pipeline already running on the default
 * ports.
 */
async function vaultSources(dir: string): Promise<void> {
  for (const sub of ["capsets", "templates"]) {
    await Deno.mkdir(join(dir, sub), { recursive: true });
    for await (const entry of Deno.readDir(join(REPO, "vault", sub))) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      let text = await Deno.readTextFile(join(REPO, "vault", sub, entry.name));
      if (sub === "capsets") {
        const source = JSON.parse(text);
        if (Array.isArray(source.net) && source.net.length > 0) {
          source.net = ["127.0.0.1:0"];
          text = JSON.stringify(source, null, 2);
        }
      }
      await Deno.writeTextFile(join(dir, sub, entry.name), text);
    }
  }
}

/** Follows the audit ledger of a running pipeline. */
export class LedgerFollower {
  #ledger: Ledger;
  #watcher: Deno.FsWatcher;
  #seq = 0;
  #events: AuditEvent[] = [];
  #wake: (() => void) | undefined;
  #pump: Promise<void>;

  private constructor(ledger: Ledger, watcher: Deno.FsWatcher) {
    this.#ledger = ledger;
    this.#watcher = watcher;
    this.#pump = (async () => {
      for await (const _ of watcher) {
        const wake = this.#wake;
        this.#wake = undefined;
        wake?.();
      }
    })();
  }

  /** Opens the ledger of `home` read-only and starts watching `audit/`. */
  static async open(home: HomeLayout): Promise<LedgerFollower> {
    const watcher = Deno.watchFs(home.audit, { recursive: false });
    const ledger = await openLedger({ path: ledgerPath(home), readOnly: true });
    return new LedgerFollower(ledger, watcher);
  }

  /** Every event read so far, in ledger order. */
  get events(): readonly AuditEvent[] {
    return this.#events;
  }

  #poll(): void {
    for (;;) {
      const records = this.#ledger.read({ afterSeq: this.#seq, limit: 1000 });
      if (records.length === 0) return;
      for (const r of records) {
        this.#seq = r.seq;
        this.#events.push(decodeEvent(r.bytes));
      }
    }
  }

  /**
   * Waits until an event after index `from` matches `predicate`; returns it with
   * `performance.now()` at the moment it was read. A 50 ms fallback tick covers a
   * change notification the OS coalesced away.
   */
  async waitFor(
    predicate: (event: AuditEvent) => boolean,
    options: { from?: number; timeoutMs: number; what: string },
  ): Promise<{ event: AuditEvent; seenAt: number }> {
    const deadline = performance.now() + options.timeoutMs;
    let checked = options.from ?? 0;
    for (;;) {
      this.#poll();
      const seenAt = performance.now();
      for (; checked < this.#events.length; checked++) {
        const event = this.#events[checked]!;
        if (predicate(event)) return { event, seenAt };
      }
      if (seenAt > deadline) {
        throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#wake = undefined;
          resolve();
        }, 50);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** The size of the largest checkpoint the witnesses cosigned, as the ledger records it. */
  witnessedSize(): number {
    return this.#ledger.latestWitnessed()?.treeSize ?? 0;
  }

  /** Stops watching and closes the ledger. */
  async close(): Promise<void> {
    this.#watcher.close();
    await this.#pump.catch(() => {});
    this.#ledger.close();
  }
}

/** A running pipeline for a benchmark. */
export interface BenchPipeline extends AsyncDisposable {
  supervisor: Supervisor;
  home: HomeLayout;
  /** Intake's base URL. */
  url: string;
  /** The operator credential. */
  credential: string;
  /** The automation credential, when {@linkcode StartBenchPipelineOptions.automationPerMinute} is set. */
  automationCredential?: string;
  /** Milliseconds from calling `startSupervisor` to `supervisor.ready` with every agent up. */
  startupMs: number;
  /** Per agent: milliseconds from its spawn to its ready report (first start). */
  agentStartupMs: Map<string, number>;
  ledger: LedgerFollower;
  /** Supervisor notices and agent stderr lines. */
  logs: string[];
}

/** Options for {@linkcode startBenchPipeline}. */
export interface StartBenchPipelineOptions {
  /** Folder the home is created in (removed by the caller). */
  dir: string;
  transport: "watch" | "poll";
  /**
   * Also creates an automation credential (`bench-automation`) with this quota
   * per minute; by default the home has only the person credential.
   */
  automationPerMinute?: number;
  /** Runs this copy of the code instead (e.g. the sandbox-off baseline); removed at dispose. */
  repo?: string;
  /** Names the home folder (default the transport). */
  label?: string;
}

/** Creates a fresh home under `dir` and starts the supervisor on it. */
export async function startBenchPipeline(
  options: StartBenchPipelineOptions,
): Promise<BenchPipeline> {
  const label = options.label ?? options.transport;
  const root = join(await Deno.realPath(options.dir), `home_${label}`);
  const sources = join(await Deno.realPath(options.dir), `sources_${label}`);
  // agents with their own uids (a supervisor running as root) must be able to enter it
  await Deno.chmod(options.dir, 0o711);
  await Deno.mkdir(root, { recursive: true });
  await vaultSources(sources);
  // the polling baseline runs a copy of the code whose agents poll (polling_repo.ts)
  const repo = options.repo ??
    (options.transport === "poll" ? await pollingRepository(REPO) : REPO);
  const { home } = await initHome({ home: root, sources, repo, clock: systemClock });
  const config = await readHomeConfig(home.config);
  const automation = options.automationPerMinute === undefined
    ? undefined
    : await createOperatorToken(home.keys, "bench-automation", "automation");
  // an agent still being written (no entry file yet) is left out, not fatal
  const agents: string[] = [];
  for (const agent of config.agents) {
    const exists = await Deno.lstat(join(REPO, "agents", `${agent}.ts`)).then(
      () => true,
      () => false,
    );
    if (exists) agents.push(agent);
    else console.error(`bench: agents/${agent}.ts does not exist; running without ${agent}`);
  }
  await writeHomeConfig(home.config, {
    ...config,
    agents,
    operator_tokens: automation === undefined
      ? config.operator_tokens
      : [...config.operator_tokens, automation],
    intake: {
      ...config.intake,
      person_per_minute: 1_000_000,
      ...(options.automationPerMinute === undefined
        ? {}
        : { automation_per_minute: options.automationPerMinute }),
    },
    // idle CPU is judged between reconciliation scans: none falls inside a run
    reconcile_ms: RECONCILE_MS,
  });
  const logs: string[] = [];
  const spawnedAt = new Map<string, number>();
  const agentStartupMs = new Map<string, number>();
  const startedAt = performance.now();
  const supervisor = await startSupervisor({
    home: root,
    repo,
    stopTimeoutMs: 5_000,
    onAgentChange: (status) => {
      if (status.state === "starting" && !spawnedAt.has(status.name)) {
        spawnedAt.set(status.name, performance.now());
      } else if (status.state === "up" && !agentStartupMs.has(status.name)) {
        const at = spawnedAt.get(status.name);
        if (at !== undefined) agentStartupMs.set(status.name, performance.now() - at);
      }
    },
    log: (line) => {
      logs.push(line);
      if (Deno.env.get("SAOE_BENCH_VERBOSE") === "1") console.error(line);
    },
  });
  try {
    const statuses = await supervisor.ready;
    const startupMs = performance.now() - startedAt;
    const down = statuses.filter((s) => s.state !== "up");
    if (down.length > 0) {
      throw new Error(
        `Agents not up: ${down.map((s) => `${s.name} (${s.state})`).join(", ")}\n${
          logs.join("\n")
        }`,
      );
    }
    if (supervisor.intakeUrl === undefined) throw new Error("The pipeline runs no intake");
    const credential = await readOperatorToken(home.keys, "operator");
    const automationCredential = automation === undefined
      ? undefined
      : await readOperatorToken(home.keys, automation.id);
    const ledger = await LedgerFollower.open(home);
    return {
      supervisor,
      home,
      url: supervisor.intakeUrl,
      credential,
      ...(automationCredential === undefined ? {} : { automationCredential }),
      startupMs,
      agentStartupMs,
      ledger,
      logs,
      async [Symbol.asyncDispose]() {
        await ledger.close();
        await supervisor.stop();
        if (repo !== REPO) await Deno.remove(repo, { recursive: true });
      },
    };
  } catch (err: unknown) {
    await supervisor.stop();
    if (repo !== REPO) await Deno.remove(repo, { recursive: true });
    throw err;
  }
}
