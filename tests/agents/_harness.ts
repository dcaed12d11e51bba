/**
 * A small harness that runs agents exactly as the supervisor does: a home made
 * by `initHome`, each agent's capset verified with the supervisor's identity, and
 * the process started by `../_support/agent_process.ts` (the command line from
 * `agentCommand()` with the verified tool manifest, a cleared environment, the
 * handover from `buildHandover()` on stdin, signed audit events read from stdout).
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
import { verifyStatement } from "../../core/primitives/dsse/verify.ts";
import { PAYLOAD_TYPES } from "../../core/primitives/dsse/types.ts";
import {
  createEnvelope,
  decodeEnvelope,
  type Envelope,
  signEnvelope,
} from "../../core/domain/validate/envelope.ts";
import type { JsonObject } from "../../core/primitives/json/strict_parse.ts";
import { type DeadEntry, listDead } from "../../core/domain/queue/dead_letter.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type AgentProcess, spawnAgent } from "../_support/agent_process.ts";
import { waitFor as waitUntil } from "../_support/wait.ts";

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

/** A running agent process (see `../_support/agent_process.ts`). */
export type RunningAgent = AgentProcess;

/** Spawns `agent` the way the supervisor does and waits for its readiness line. */
export async function startAgent(th: TestHome, agent: string): Promise<RunningAgent> {
  const capset = th.capsets.get(agent);
  if (capset === undefined) throw new Error(`No capset for agent ${agent}`);
  return await spawnAgent({
    agent,
    capset,
    home: th.home,
    config: th.config,
    keys: th.keys,
    repo: REPO,
    toolManifest: th.toolManifest,
    env: { NO_COLOR: "1" },
    maxLineBytes: 128 * 1024,
    // a bad report line fails every later wait: the agent broke the stdout protocol
    onBadLine: "stop",
  });
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

/** Verified, decoded envelopes currently in `agents/<receiver>/inbox/<sender>/`. */
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

/** Polls until `probe` returns a value other than undefined (`../_support/wait.ts`). */
export function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  return waitUntil(probe, timeoutMs, what, { intervalMs: 20 }) as Promise<T>;
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
