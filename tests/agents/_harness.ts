/**
 * A small harness that runs agents exactly as the supervisor does: a home made
 * by `initHome`, each agent's capset verified with the supervisor's identity, the
 * command line from `agentCommand()` (with the verified tool manifest, so a
 * ToolGate host reads exactly its tool modules), a cleared environment, the
 * handover from `buildHandover()` on stdin, signed audit events read from stdout.
 *
 * Tests inject envelopes signed with the real sender's key into an agent's inbox
 * (temp name + rename, like a sender), wait for events or for envelopes in the
 * next agent's inbox, and stop every process they started.
 *
 * @module
 */
import { join } from "node:path";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { type KeyStore, openKeyStore } from "../../core/domain/keys/keystore.ts";
import { type HomeConfig, readHomeConfig } from "../../core/domain/home/config.ts";
import {
  agentSubdir,
  type HomeLayout,
  homeLayout,
  inboxFromDir,
} from "../../core/domain/home/layout.ts";
import { agentCommand } from "../../core/services/supervisor/agent_command.ts";
import { buildHandover } from "../../core/services/supervisor/handover.ts";
import { decryptWith } from "../../core/domain/vault/age.ts";
import { verifyCapset } from "../../core/domain/capset/verify.ts";
import type { Capset } from "../../core/domain/capset/types.ts";
import { capsetPath, toolManifestPath } from "../../core/domain/vault/layout.ts";
import { verifyRootChain } from "../../core/domain/trust/chain.ts";
import { loadRootChain } from "../../core/domain/trust/files.ts";
import { MemoryVersionStore } from "../../core/domain/trust/version_store_memory.ts";
import { type ToolManifest, verifyToolManifest } from "../../core/domain/toolgate/manifest.ts";
import { type PlanCall, signPlan } from "../../core/domain/toolgate/plan.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { parseDsse } from "../../core/primitives/dsse/parse.ts";
import { verifySignatures, verifyStatement } from "../../core/primitives/dsse/verify.ts";
import { PAYLOAD_TYPES, type TrustedKeySet } from "../../core/primitives/dsse/types.ts";
import { type AuditEvent, decodeEvent } from "../../core/domain/ledger/events.ts";
import {
  createEnvelope,
  decodeEnvelope,
  type Envelope,
  signEnvelope,
} from "../../core/domain/validate/envelope.ts";
import type { JsonObject } from "../../core/primitives/json/strict_parse.ts";
import { type DeadEntry, listDead } from "../../core/domain/queue/dead_letter.ts";
import { READY_LINE } from "../../core/services/runtime/protocol.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";

/** The repository root (agents and tool modules are run from here). */
export const REPO: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

const SKEW_MS = 60_000;

/** A fresh home with its config, key store and every agent's verified capset. */
export interface TestHome {
  /** Parent temp folder (removed by `dispose`). */
  tmp: string;
  home: HomeLayout;
  config: HomeConfig;
  keys: KeyStore;
  capsets: Map<string, Capset>;
  toolManifest: ToolManifest;
  /** An agent's signing key, as the agent itself holds it. */
  signer(agent: string): Promise<SigningKey>;
  /** Removes the home. */
  dispose(): Promise<void>;
}

/**
 * Creates a home with `initHome` and the folders the supervisor prepares before
 * spawning: each inbox subfolder of every edge and each agent's private folders.
 */
export async function createTestHome(): Promise<TestHome> {
  // realPath: Deno checks paths as written, and /tmp may itself be a link
  const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-agents-" }));
  const root = join(tmp, "home");
  await initHome({ home: root, sources: join(REPO, "vault"), repo: REPO, clock: systemClock });
  const home = homeLayout(root);
  const config = await readHomeConfig(home.config);
  const keys = await openKeyStore(home.keys);
  const supervisor = await keys.loadAgent("supervisor");
  const roots = await verifyRootChain({
    roots: await loadRootChain(home.trust),
    pin: config.root_pin,
    clock: systemClock,
    skewMs: SKEW_MS,
    versionStore: new MemoryVersionStore(),
  });
  const capsets = new Map<string, Capset>();
  for (const agent of config.agents) {
    const sealed = await Deno.readFile(capsetPath(home.vault, agent));
    const capset = await verifyCapset(await decryptWith(supervisor.ageIdentity, sealed), {
      dispatcher: roots.trusted,
      clock: systemClock,
      skewMs: SKEW_MS,
    });
    capsets.set(agent, capset);
  }
  const toolManifest = await verifyToolManifest(
    await Deno.readFile(toolManifestPath(home.vault)),
    { dispatcher: roots.trusted, clock: systemClock, skewMs: SKEW_MS },
  );
  for (const [agent, capset] of capsets) {
    for (const r of capset.receives) {
      await Deno.mkdir(inboxFromDir(home, agent, r.from), { recursive: true });
    }
    for (const sub of ["quarantine", "dead", "store", "retry"] as const) {
      await Deno.mkdir(agentSubdir(home, agent, sub), { recursive: true });
    }
  }
  const signers = new Map<string, SigningKey>();
  return {
    tmp,
    home,
    config,
    keys,
    capsets,
    toolManifest,
    async signer(agent) {
      let key = signers.get(agent);
      if (key === undefined) {
        key = await SigningKey.fromSeed((await keys.loadAgent(agent)).seed);
        signers.set(agent, key);
      }
      return key;
    },
    async dispose() {
      await Deno.remove(tmp, { recursive: true });
    },
  };
}

/** A running agent process. */
export interface RunningAgent {
  name: string;
  /** Exact argv after the Deno executable. */
  args: string[];
  /** Signed audit events reported so far, signature verified, in order. */
  events: AuditEvent[];
  /** Report lines that broke the stdout protocol (must stay empty). */
  problems: string[];
  /** Everything the agent wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the first event (already seen or future) matching `match`. */
  waitForEvent(match: (e: AuditEvent) => boolean, timeoutMs?: number): Promise<AuditEvent>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<Deno.CommandStatus>;
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
    }
  }
  if (buffer !== "") yield buffer;
}

/** Spawns `agent` the way the supervisor does and waits for its readiness line. */
export async function startAgent(th: TestHome, agent: string): Promise<RunningAgent> {
  const capset = th.capsets.get(agent);
  if (capset === undefined) throw new Error(`No capset for agent ${agent}`);
  const cmd = agentCommand({ capset, home: th.home, repo: REPO, toolManifest: th.toolManifest });
  const child = new Deno.Command(cmd.deno, {
    args: cmd.args,
    cwd: REPO,
    clearEnv: true,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const handover = await buildHandover({
    agent,
    home: th.home,
    repo: REPO,
    config: th.config,
    keys: th.keys,
  });
  const writer = child.stdin.getWriter();
  await writer.write(handover);
  await writer.close();
  handover.fill(0);

  const signer = await th.signer(agent);
  const trusted: TrustedKeySet = {
    name: agent,
    keys: [{ keyid: signer.keyid, publicKey: signer.publicKey }],
    threshold: 1,
  };
  const events: AuditEvent[] = [];
  const waiters = new Set<() => void>();
  let errText = "";
  let ready: () => void = () => {};
  let failed: (err: Error) => void = () => {};
  const readyPromise = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  const problems: string[] = [];
  const stdoutDone = (async () => {
    for await (const line of lines(child.stdout)) {
      if (line === READY_LINE) {
        ready();
        continue;
      }
      const env = parseDsse(new TextEncoder().encode(line), 128 * 1024);
      await verifySignatures(env, {
        trusted: [trusted],
        signatureCode: "bad_signature",
        what: `${agent} audit event`,
      });
      if (env.payloadType !== PAYLOAD_TYPES.auditEvent) throw new Error("not an audit event");
      const event = decodeEvent(env.payload);
      if (event.agent !== agent) throw new Error(`event names ${event.agent}, not ${agent}`);
      events.push(event);
      for (const w of waiters) w();
    }
  })().catch((err: unknown) => {
    // a bad report line fails every later wait: the agent broke the stdout protocol
    problems.push(`stdout protocol violation: ${String(err)}`);
  });
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) errText += decoder.decode(chunk, { stream: true });
  })();
  const status = child.status;
  status.then((s) => failed(new Error(`${agent} exited with ${s.code}: ${errText}`)));
  const timer = setTimeout(() => failed(new Error(`${agent} did not become ready`)), 15_000);
  try {
    await readyPromise;
  } catch (err: unknown) {
    child.kill("SIGKILL");
    await status.catch(() => {});
    await Promise.allSettled([stdoutDone, stderrDone]);
    throw err;
  } finally {
    clearTimeout(timer);
  }

  return {
    name: agent,
    args: cmd.args,
    events,
    problems,
    stderr: () => errText,
    waitForEvent(match, timeoutMs = 15_000) {
      return new Promise<AuditEvent>((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found === undefined) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `${agent}: no matching event within ${timeoutMs} ms; events: ${
                JSON.stringify(events)
              }; problems: ${problems.join("; ")}; stderr: ${errText}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      const s = await status;
      await Promise.allSettled([stdoutDone, stderrDone]);
      return s;
    },
  };
}

/** Starts several agents; stops the ones started if one fails. */
export async function startAgents(th: TestHome, names: string[]): Promise<RunningAgent[]> {
  const started = await Promise.allSettled(names.map((n) => startAgent(th, n)));
  const ok = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const bad = started.find((s) => s.status === "rejected");
  if (bad !== undefined) {
    await Promise.all(ok.map((a) => a.stop()));
    throw (bad as PromiseRejectedResult).reason;
  }
  return ok;
}

/** What to inject. */
export interface InjectOptions {
  from: string;
  to: string;
  template: string;
  payload: JsonObject;
  sessionId?: string;
  envelopeId?: string;
  /** Sign with this agent's key instead of `from`'s (a forgery). */
  signAs?: string;
}

const templateShas = new Map<string, string>();

async function templateRef(id: string) {
  let sha = templateShas.get(id);
  if (sha === undefined) {
    sha = await sha256Hex(await Deno.readFile(join(REPO, "vault", "templates", `${id}.json`)));
    templateShas.set(id, sha);
  }
  return { id, version: 1, sha256: sha };
}

/** Signs an envelope with the sender's key and drops it atomically into the receiver's inbox. */
export async function inject(th: TestHome, o: InjectOptions): Promise<Envelope> {
  const fields = createEnvelope({
    sender: o.from,
    receiver: o.to,
    template: await templateRef(o.template),
    payload: o.payload,
    ...(o.sessionId === undefined ? {} : { session_id: o.sessionId }),
    ...(o.envelopeId === undefined ? {} : { envelope_id: o.envelopeId }),
    human_readable: `test ${o.template}`,
  });
  const bytes = await signEnvelope({ fields, signer: await th.signer(o.signAs ?? o.from) });
  const dir = inboxFromDir(th.home, o.to, o.from);
  const temp = join(dir, `.tmp-${crypto.randomUUID()}`);
  await Deno.writeFile(temp, bytes);
  await Deno.rename(temp, join(dir, `${fields.envelope_id}.satl`));
  return fields;
}

/** Verified, decoded envelopes currently in `queues/<receiver>/<sender>/`. */
export async function inboxEnvelopes(
  th: TestHome,
  receiver: string,
  sender: string,
): Promise<Envelope[]> {
  const dir = inboxFromDir(th.home, receiver, sender);
  const signer = await th.signer(sender);
  const out: Envelope[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".satl") || entry.name.startsWith(".")) continue;
    const verified = await verifyStatement(await Deno.readFile(join(dir, entry.name)), {
      payloadType: PAYLOAD_TYPES.envelope,
      trusted: [{
        name: sender,
        keys: [{ keyid: signer.keyid, publicKey: signer.publicKey }],
        threshold: 1,
      }],
      signatureCode: "bad_signature",
      what: "forwarded envelope",
      decode: decodeEnvelope,
      clock: systemClock,
      skewMs: SKEW_MS,
      maxBytes: 8 * 1024 * 1024,
    });
    out.push(verified.payload);
  }
  return out;
}

/** Polls until `probe` returns a value other than undefined. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits for an envelope from `sender` in `receiver`'s inbox matching `match`. */
export function waitForEnvelope(
  th: TestHome,
  receiver: string,
  sender: string,
  match: (e: Envelope) => boolean = () => true,
): Promise<Envelope> {
  return waitFor(
    async () => (await inboxEnvelopes(th, receiver, sender)).find(match),
    `an envelope from ${sender} in ${receiver}'s inbox`,
  );
}

/** The dead-letter records of an agent. */
export function deadLetters(th: TestHome, agent: string): Promise<DeadEntry[]> {
  return listDead(agentSubdir(th.home, agent, "dead"));
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Options for {@linkcode testPlan}. */
export interface TestPlanOptions {
  session: string;
  envelopeId: string;
  calls: PlanCall[];
  /** Sign with this agent's key (default the planner; anything else is a forgery). */
  signAs?: string;
}

/** A plan signed with a real key from the home, as DSSE JSON text. */
export async function testPlan(th: TestHome, o: TestPlanOptions): Promise<string> {
  const bytes = await signPlan({
    plan: {
      plan_id: crypto.randomUUID(),
      session_id: o.session,
      envelope_id: o.envelopeId,
      issuer: "planner",
      calls: o.calls,
    },
    signers: [await th.signer(o.signAs ?? "planner")],
    issuedAt: Date.now(),
    validForMs: 600_000,
  });
  return new TextDecoder().decode(bytes);
}

/** Runs `fn`; on failure adds the agents' events and stderr to the error message. */
export async function explained<T>(agents: RunningAgent[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err: unknown) {
    const notes = agents.map((a) =>
      `--- ${a.name} events: ${JSON.stringify(a.events)}\n--- ${a.name} stderr: ${a.stderr()}`
    ).join("\n");
    if (err instanceof Error) err.message = `${err.message}\n${notes}`;
    throw err;
  }
}
