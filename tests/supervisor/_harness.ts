/**
 * Test harness for anything that needs a running pipeline: a fresh home in a
 * temp folder, the supervisor started in-process ({@linkcode startTestSupervisor})
 * or as the real CLI ({@linkcode startCliPipeline}), envelopes injected into an
 * inbox as a peer would write them, and the ledger read back and verified
 * against what the home's witness vouches for ({@linkcode verifyTestLedger}).
 *
 * Every helper returns an `AsyncDisposable`: `await using` stops processes and
 * removes the home even when an assertion fails.
 *
 * @module
 */
import {
  type AgentCode,
  applyCodePin,
  describeAgentCode,
} from "../../core/services/ceremony/code_pin.ts";
import { verifyCodeManifest } from "../../core/domain/code/manifest.ts";
import { codeManifestPath } from "../../core/domain/vault/layout.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { type HomeConfig, readHomeConfig, writeHomeConfig } from "../../core/domain/home/config.ts";
import { type HomeLayout, inboxFromDir, ledgerPath } from "../../core/domain/home/layout.ts";
import { type KeyStore, openKeyStore } from "../../core/domain/keys/keystore.ts";
import type { JsonObject } from "../../core/primitives/json/strict_parse.ts";
import { type AuditEvent, decodeEvent } from "../../core/domain/ledger/events.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { logOrigin } from "../../core/domain/ledger/log_identity.ts";
import { type LedgerVerification, verifyLedger } from "../../core/domain/ledger/verify.ts";
import { type ConfiguredWitness, witnessPolicy } from "../../core/services/witness/policy.ts";
import { startWitness, type WitnessServer } from "../../core/services/witness/server.ts";
import { type WitnessedMark, witnessedMark } from "../../core/services/witness/witnessed_head.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { createEnvelope, signEnvelope } from "../../core/domain/validate/envelope.ts";
import {
  startSupervisor,
  type StartSupervisorOptions,
  type Supervisor,
} from "../../core/services/supervisor/supervisor.ts";
import { waitFor as waitUntil } from "../_support/wait.ts";

/** The repository root (symlink-free). */
export const REPO: string = await Deno.realPath(
  fileURLToPath(new URL("../../", import.meta.url)),
);

/** A fresh, initialised home in a temp folder. */
export interface TestHome extends AsyncDisposable {
  /** The temp folder holding the home (removed on dispose). */
  root: string;
  home: HomeLayout;
  config: HomeConfig;
  keys: KeyStore;
}

/** Options for {@linkcode makeTestHome}. */
export interface MakeTestHomeOptions {
  /** Replace `config.agents` (the agents the supervisor runs, in order). */
  agents?: string[];
  /**
   * Intake's loopback port, written into its capset before init. Default 0: the
   * system assigns one when intake binds (the supervisor learns it from intake's
   * ready line), so pipelines of tests running in parallel never collide.
   */
  intakePort?: number;
  /** The viewer's loopback port, written into its capset before init; default 0 (assigned). */
  viewerPort?: number;
  /** Edits of capset sources before init, by agent (e.g. smaller limits). */
  capsetEdits?: Readonly<Record<string, (source: JsonObject) => void>>;
}

/** Copies the repository's vault sources, with intake and the viewer on the given ports. */
async function vaultSources(
  ports: { intake: number; viewer: number },
  edits: Readonly<Record<string, (source: JsonObject) => void>> = {},
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "saoe-sources-" });
  for (const sub of ["capsets", "templates"]) {
    await Deno.mkdir(join(dir, sub));
    for await (const entry of Deno.readDir(join(REPO, "vault", sub))) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      let text = await Deno.readTextFile(join(REPO, "vault", sub, entry.name));
      if (sub === "capsets") {
        const source = JSON.parse(text);
        if (entry.name === "intake.json") source.net = [`127.0.0.1:${ports.intake}`];
        if (entry.name === "viewer.json") source.net = [`127.0.0.1:${ports.viewer}`];
        edits[entry.name.slice(0, -".json".length)]?.(source);
        text = JSON.stringify(source, null, 2);
      }
      await Deno.writeTextFile(join(dir, sub, entry.name), text);
    }
  }
  return dir;
}

/** Creates a home with `initHome` in a fresh temp folder (resolved with realPath). */
export async function makeTestHome(options: MakeTestHomeOptions = {}): Promise<TestHome> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-sup-" }));
  const sources = await vaultSources(
    { intake: options.intakePort ?? 0, viewer: options.viewerPort ?? 0 },
    options.capsetEdits,
  );
  try {
    const { home } = await initHome({ home: root, sources, repo: REPO, clock: systemClock });
    if (options.agents !== undefined) {
      const config = await readHomeConfig(home.config);
      await writeHomeConfig(home.config, { ...config, agents: options.agents });
    }
    return {
      root,
      home,
      config: await readHomeConfig(home.config),
      keys: await openKeyStore(home.keys),
      async [Symbol.asyncDispose]() {
        await Deno.remove(root, { recursive: true }).catch(() => {});
        // the home's local witness keeps its state beside the home
        await Deno.remove(`${root}.witness`, { recursive: true }).catch(() => {});
      },
    };
  } catch (err: unknown) {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    await Deno.remove(`${root}.witness`, { recursive: true }).catch(() => {});
    throw err;
  } finally {
    await Deno.remove(sources, { recursive: true }).catch(() => {});
  }
}

/** Polls `probe` until it returns a value other than `undefined`/`false` (`../_support/wait.ts`). */
export function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: { what: string; timeoutMs?: number; intervalMs?: number },
): Promise<T> {
  return waitUntil(probe, options.timeoutMs ?? 15_000, options.what, {
    intervalMs: options.intervalMs ?? 50,
  }) as Promise<T>;
}

/** A supervisor running inside the test process; disposing stops it. */
export interface TestSupervisor extends AsyncDisposable {
  supervisor: Supervisor;
  /** Supervisor notices and agent stderr lines seen so far. */
  logs: string[];
}

/**
 * Starts the supervisor in-process on `t` and waits until every agent's first
 * start settled. Set `SAOE_TEST_VERBOSE=1` to see its log.
 */
export async function startTestSupervisor(
  t: TestHome,
  options: Partial<StartSupervisorOptions> = {},
): Promise<TestSupervisor> {
  const logs: string[] = [];
  const verbose = Deno.env.get("SAOE_TEST_VERBOSE") === "1";
  const supervisor = await startSupervisor({
    home: t.root,
    repo: REPO,
    stopTimeoutMs: 5_000,
    log: (line) => {
      logs.push(line);
      if (verbose) console.error(line);
    },
    ...options,
  });
  await supervisor.ready;
  return {
    supervisor,
    logs,
    async [Symbol.asyncDispose]() {
      await supervisor.stop();
    },
  };
}

/** Waits until `agent` is up and returns its pid. */
export function waitUntilUp(
  supervisor: Supervisor,
  agent: string,
  options: { timeoutMs?: number; notPid?: number } = {},
): Promise<number> {
  return waitFor(() => {
    const a = supervisor.agents().find((s) => s.name === agent);
    return a?.state === "up" && a.pid !== undefined && a.pid !== options.notPid && a.pid;
  }, { what: `agent "${agent}" to be up`, timeoutMs: options.timeoutMs ?? 15_000 });
}

/** The `deno run …` arguments of the `saoe` task in deno.json (what users run). */
export async function saoeTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json")));
  const words = String(config.tasks.saoe).split(/\s+/);
  if (words[0] !== "deno") throw new Error(`Unexpected saoe task: ${config.tasks.saoe}`);
  return words.slice(1);
}

/** A `saoe pipeline --json` process. */
export interface CliPipeline extends AsyncDisposable {
  child: Deno.ChildProcess;
  /** JSON objects printed on stdout so far. */
  lines: JsonObject[];
  /** Lines printed on stderr so far. */
  stderr: string[];
  /** Waits for a stdout object matching `predicate`. */
  waitForLine(predicate: (line: JsonObject) => boolean, what: string): Promise<JsonObject>;
  /** Sends `signal` and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    buffer += decoder.decode(bytes, { stream: true });
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const part of parts) onLine(part);
  }
  if (buffer !== "") onLine(buffer);
}

/** Spawns `saoe <args>` exactly as the `saoe` task does, from the repository root. */
export async function spawnSaoe(args: string[]): Promise<Deno.ChildProcess> {
  return new Deno.Command(Deno.execPath(), {
    args: [...await saoeTaskArgs(), ...args],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Runs `saoe <args>` to completion. */
export async function runSaoe(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...await saoeTaskArgs(), ...args],
    cwd: REPO,
    stdin: "null",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** Starts `saoe pipeline --home <t> --json` and waits for its `ready` line. */
export async function startCliPipeline(t: TestHome, extra: string[] = []): Promise<CliPipeline> {
  const child = await spawnSaoe(["pipeline", "--home", t.root, "--json", ...extra]);
  const lines: JsonObject[] = [];
  const stderr: string[] = [];
  const verbose = Deno.env.get("SAOE_TEST_VERBOSE") === "1";
  const readers = Promise.all([
    collect(child.stdout, (line) => {
      try {
        lines.push(JSON.parse(line));
      } catch {
        stderr.push(`(non-JSON stdout) ${line}`);
      }
    }),
    collect(child.stderr, (line) => {
      stderr.push(line);
      if (verbose) console.error(line);
    }),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const pipeline: CliPipeline = {
    child,
    lines,
    stderr,
    waitForLine(predicate, what) {
      return waitFor(() => {
        const found = lines.find(predicate);
        if (found === undefined && exited) {
          throw new Error(`saoe pipeline exited before ${what}:\n${stderr.join("\n")}`);
        }
        return found;
      }, { what, timeoutMs: 20_000 });
    },
    async stop(signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
      const s = await status;
      await readers;
      return s;
    },
    async [Symbol.asyncDispose]() {
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, 15_000);
      await pipeline.stop("SIGTERM");
      clearTimeout(timer);
    },
  };
  try {
    await pipeline.waitForLine((l) => l.kind === "ready", "the ready line");
  } catch (err: unknown) {
    await pipeline[Symbol.asyncDispose]();
    throw err;
  }
  return pipeline;
}

/** Every event in the ledger, in order (read-only; works while the supervisor runs). */
export async function ledgerEvents(home: HomeLayout): Promise<AuditEvent[]> {
  const exists = await Deno.lstat(ledgerPath(home)).then(() => true, () => false);
  if (!exists) return [];
  const ledger = await openLedger({ path: ledgerPath(home), readOnly: true });
  try {
    const events: AuditEvent[] = [];
    for (;;) {
      const records = ledger.read({ afterSeq: events.length, limit: 1000 });
      if (records.length === 0) return events;
      for (const r of records) events.push(decodeEvent(r.bytes));
    }
  } finally {
    ledger.close();
  }
}

/** Waits until the ledger holds an event matching `predicate`; returns all events. */
export function waitForEvent(
  home: HomeLayout,
  predicate: (event: AuditEvent) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<AuditEvent[]> {
  return waitFor(async () => {
    const events = await ledgerEvents(home);
    return events.some(predicate) && events;
  }, { what, timeoutMs });
}

/** `detail.agent` of a supervisor event. */
export function subjectOf(event: AuditEvent): string | undefined {
  const agent = event.detail?.agent;
  return typeof agent === "string" ? agent : undefined;
}

/** The ledger's own latest witnessed note, when it can be read (trusted by no one). */
async function storedWitnessed(home: HomeLayout): Promise<string | undefined> {
  try {
    const ledger = await openLedger({ path: ledgerPath(home), readOnly: true });
    try {
      return ledger.latestWitnessed()?.note;
    } finally {
      ledger.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * What the home's witnesses vouch for, as `saoe audit verify` learns it with the
 * pipeline stopped: each local witness (config `state`) is served in-process from
 * its state directory and asked over HTTP, the ledger's stored witnessed record
 * is read, each verified with the supervisor's key and the policy in config.json.
 */
export async function testWitnessedMark(t: TestHome): Promise<WitnessedMark> {
  const secrets = await t.keys.loadAgent("supervisor");
  const key = await SigningKey.fromSeed(secrets.seed);
  const config = await readHomeConfig(t.home.config);
  const policy = witnessPolicy(config);
  const servers: WitnessServer[] = [];
  try {
    const witnesses: ConfiguredWitness[] = [];
    for (const w of policy.witnesses) {
      if (w.state === undefined) witnesses.push(w);
      else {
        const server = await startWitness({ dir: w.state, port: 0, log: () => {} });
        servers.push(server);
        witnesses.push({ ...w, url: server.url });
      }
    }
    const stored = await storedWitnessed(t.home);
    return await witnessedMark({
      policy: { ...policy, witnesses },
      origin: logOrigin(config.root_pin),
      logKeys: { name: "supervisor checkpoint key", keys: [key], threshold: 1 },
      ...(stored !== undefined ? { stored } : {}),
    });
  } finally {
    await Promise.all(servers.map((s) => s.shutdown()));
  }
}

/**
 * Verifies the ledger with the supervisor's checkpoint key from the key store,
 * against the largest checkpoint the home's witnesses vouch for
 * ({@linkcode testWitnessedMark}); call it with the pipeline stopped.
 */
export async function verifyTestLedger(t: TestHome): Promise<LedgerVerification> {
  const secrets = await t.keys.loadAgent("supervisor");
  const key = await SigningKey.fromSeed(secrets.seed);
  const config = await readHomeConfig(t.home.config);
  const mark = await testWitnessedMark(t);
  return await verifyLedger({
    path: ledgerPath(t.home),
    origin: logOrigin(config.root_pin),
    logKeys: { name: "supervisor checkpoint key", keys: [key], threshold: 1 },
    ...(mark.head !== undefined ? { witnessed: mark.head } : {}),
    ...(mark.source !== undefined ? { witnessedSource: mark.source } : {}),
  });
}

/** Options for {@linkcode injectEnvelope}. */
export interface InjectOptions {
  sender: string;
  receiver: string;
  template: string;
  payload: JsonObject;
  sessionId?: string;
}

/**
 * Signs an envelope with `sender`'s real key and drops it into the receiver's
 * inbox as the sender would (temp file, then rename). Returns its ids.
 */
export async function injectEnvelope(
  t: TestHome,
  options: InjectOptions,
): Promise<{ envelope_id: string; session_id: string }> {
  const templateBytes = await Deno.readFile(
    join(REPO, "vault", "templates", `${options.template}.json`),
  );
  const version = JSON.parse(new TextDecoder().decode(templateBytes)).version as number;
  const secrets = await t.keys.loadAgent(options.sender);
  const signer = await SigningKey.fromSeed(secrets.seed);
  const fields = createEnvelope({
    sender: options.sender,
    receiver: options.receiver,
    template: { id: options.template, version, sha256: await sha256Hex(templateBytes) },
    payload: options.payload,
    human_readable: "injected by a test",
    ...(options.sessionId !== undefined ? { session_id: options.sessionId } : {}),
  });
  const folder = inboxFromDir(t.home, options.receiver, options.sender);
  const temp = join(folder, `.tmp-${crypto.randomUUID()}`);
  await Deno.writeFile(temp, await signEnvelope({ fields, signer }));
  await Deno.rename(temp, join(folder, `${fields.envelope_id}.satl`));
  return { envelope_id: fields.envelope_id, session_id: fields.session_id };
}

/** A valid `blog_article_intent` payload. */
export function articlePayload(title = "Hello"): JsonObject {
  return { title, markdown: "# Heading\n\nBody text.", image_count: 0 };
}

/**
 * Signs the next code manifest of `t` for the agents' code in `repo` with the
 * home's own dispatcher keys (what `saoe publish --code` does after the typed
 * hash): a test that runs a stand-in agent pins it first, as an operator would.
 */
export async function pinTestCode(
  t: TestHome,
  repo: string,
  agents: readonly AgentCode[] = t.config.agents.map((agent) => ({ agent, toolModules: [] })),
): Promise<void> {
  const seeds = await t.keys.loadDispatchers();
  const signers = await Promise.all(seeds.map((s) => SigningKey.fromSeed(s)));
  const current = await verifyCodeManifest(
    await Deno.readFile(codeManifestPath(t.home.vault)),
    {
      dispatcher: { name: "dispatcher", keys: signers, threshold: signers.length },
      clock: systemClock,
      skewMs: t.config.skew_ms,
    },
  );
  await applyCodePin({
    home: t.home,
    version: current.version + 1,
    contents: await describeAgentCode(repo, agents),
    signers,
    clock: systemClock,
    validityDays: t.config.validity.manifest_days,
  });
}
