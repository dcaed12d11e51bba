/**
 * A real intake agent process for tests, started the way the supervisor starts
 * it: a fresh home from `initHome()` (with intake's capset on a port the system assigns,
 * so parallel test files never collide on 8090), started by
 * `../_support/agent_process.ts`: the exact `agentCommand()` argv in a cleared
 * environment, and `buildHandover()` on stdin. Its stdout is read as the
 * supervisor reads it: one signed audit event per line, verified with intake's
 * public key.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { type HomeLayout, inboxFromDir } from "../../core/domain/home/layout.ts";
import { decryptWith } from "../../core/domain/vault/age.ts";
import { verifyCapset } from "../../core/domain/capset/verify.ts";
import { capsetPath } from "../../core/domain/vault/layout.ts";
import { verifyRootChain } from "../../core/domain/trust/chain.ts";
import { loadRootChain } from "../../core/domain/trust/files.ts";
import { MemoryVersionStore } from "../../core/domain/trust/version_store_memory.ts";
import { parseDsse } from "../../core/primitives/dsse/parse.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import { createOperatorToken, readOperatorToken } from "../../core/domain/keys/operator_token.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { parseStrictJson } from "../../core/primitives/json/strict_parse.ts";
import { spawnAgent } from "../_support/agent_process.ts";

/** The repository root. */
export const REPO: string = resolve(import.meta.dirname!, "../..");

/** Options for {@linkcode startIntake}. */
export interface StartIntakeOptions {
  /** Override of `intake.max_queue_depth` in the handover. */
  maxQueueDepth?: number;
}

/** A running intake process and its home. */
export interface IntakeProcess {
  root: string;
  home: HomeLayout;
  port: number;
  url: string;
  /** The person credential `saoe init` created (`operator`). */
  person: string;
  /** An automation credential (`ci`), stored as `keys/operator-ci.token`. */
  automation: string;
  /** Verified audit events reported so far, in order. */
  events: AuditEvent[];
  /** The exact event bytes of {@linkcode IntakeProcess.events} (what a supervisor appends). */
  rawEvents: Uint8Array[];
  /** The folder intake writes: `agents/sanitization/inbox/intake/`. */
  queue: string;
  /** Waits for an event matching `match`, or fails after `timeoutMs`. */
  waitForEvent(match: (e: AuditEvent) => boolean, timeoutMs?: number): Promise<AuditEvent>;
  /** Every raw stdout line that is not an event or the ready line (must stay empty). */
  strayLines: string[];
  /** Stops the process and removes the home. */
  stop(): Promise<void>;
}

async function copySources(port: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "saoe-intake-src-" });
  for (const sub of ["templates", "capsets"]) {
    await Deno.mkdir(join(dir, sub));
    for await (const entry of Deno.readDir(join(REPO, "vault", sub))) {
      if (entry.isFile) {
        await Deno.copyFile(join(REPO, "vault", sub, entry.name), join(dir, sub, entry.name));
      }
    }
  }
  const intakePath = join(dir, "capsets", "intake.json");
  const capset = JSON.parse(await Deno.readTextFile(intakePath));
  capset.net = [`127.0.0.1:${port}`];
  await Deno.writeTextFile(intakePath, JSON.stringify(capset, null, 2));
  return dir;
}

/** Starts a real intake agent process on a fresh home. */
export async function startIntake(options: StartIntakeOptions = {}): Promise<IntakeProcess> {
  // the system assigns intake's port (its capset grants 127.0.0.1:0); the agent reports it
  const sources = await copySources(0);
  const root = await Deno.makeTempDir({ prefix: "saoe-intake-home-" });
  const { home, config } = await initHome({ home: root, sources, repo: REPO, clock: systemClock });
  await Deno.remove(sources, { recursive: true });
  const automation = await createOperatorToken(home.keys, "ci", "automation");
  config.operator_tokens.push(automation);
  if (options.maxQueueDepth !== undefined) config.intake.max_queue_depth = options.maxQueueDepth;
  const keys = await openKeyStore(home.keys);
  const supervisor = await keys.loadAgent("supervisor");
  const rootV = await verifyRootChain({
    roots: await loadRootChain(home.trust),
    pin: config.root_pin,
    clock: systemClock,
    skewMs: 1000,
    versionStore: new MemoryVersionStore(),
  });
  const capset = await verifyCapset(
    await decryptWith(
      supervisor.ageIdentity,
      await Deno.readFile(capsetPath(home.vault, "intake")),
    ),
    { dispatcher: rootV.trusted, clock: systemClock, skewMs: 1000 },
  );
  // what the supervisor prepares before spawning: the sender's inbox folder and the agent's state
  const queue = inboxFromDir(home, "sanitization", "intake");
  await Deno.mkdir(queue, { recursive: true });
  for (const sub of ["quarantine", "dead", "store", "retry"]) {
    await Deno.mkdir(join(home.agents, "intake", sub), { recursive: true });
  }
  const agent = await spawnAgent({
    agent: "intake",
    capset,
    home,
    config,
    keys,
    repo: REPO,
    eventTimeoutMs: 5000,
  });

  if (agent.listen === undefined) throw new Error("intake reported ready without its address");
  const port = Number(agent.listen.slice("127.0.0.1:".length));
  return {
    root,
    home,
    port,
    url: `http://${agent.listen}`,
    person: await readOperatorToken(home.keys, "operator"),
    automation: await readOperatorToken(home.keys, "ci"),
    events: agent.events,
    rawEvents: agent.rawEvents,
    queue,
    strayLines: agent.strayLines,
    waitForEvent: (match, timeoutMs) => agent.waitForEvent(match, timeoutMs),
    async stop() {
      await agent.stop();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(`${root}.witness`, { recursive: true }).catch(() => {});
    },
  };
}

/** The exact `deno task saoe` command line (from deno.json), with this Deno. */
export async function saoeCommand(): Promise<{ deno: string; args: string[] }> {
  const config = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json")));
  const [first, ...args] = String(config.tasks.saoe).split(" ");
  if (first !== "deno") throw new Error("unexpected saoe task");
  return { deno: Deno.execPath(), args };
}

/** Runs `saoe <args>` as a user does from the repository root. */
export async function runSaoe(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { deno, args: base } = await saoeCommand();
  const out = await new Deno.Command(deno, {
    args: [...base, ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Names in a folder, sorted (empty when it does not exist). */
export async function listNames(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/** Every path below a folder, recursively, sorted. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await listNames(dir)) {
    const path = join(dir, name);
    out.push(path);
    if ((await Deno.lstat(path)).isDirectory) out.push(...await listTree(path));
  }
  return out.sort();
}

/** The envelope payloads and template ids in intake's queue, decoded (not verified). */
export async function queuedEnvelopes(
  queue: string,
): Promise<{ template: string; session_id: string; payload: Record<string, unknown> }[]> {
  const out = [];
  for (const name of await listNames(queue)) {
    const env = parseDsse(await Deno.readFile(join(queue, name)), 8 * 1024 * 1024);
    const fields = parseStrictJson(env.payload, { maxBytes: 8 * 1024 * 1024 }) as {
      template: { id: string };
      session_id: string;
      payload: Record<string, unknown>;
    };
    out.push({
      template: fields.template.id,
      session_id: fields.session_id,
      payload: fields.payload,
    });
  }
  return out;
}

/** A minimal PNG header (signature + IHDR) declaring `width`x`height`, padded to `size` bytes. */
export function pngHeader(width: number, height: number, size = 64): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(Math.max(size, 33));
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0], 24);
  return bytes;
}
