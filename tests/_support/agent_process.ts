/**
 * One real agent process for tests, started exactly as the supervisor starts it:
 * the command line `agentCommand()` derives from the agent's verified capset
 * (with the verified tool manifest when given, so a ToolGate host reads exactly
 * its tool modules), run from the repository in a cleared environment, with the
 * handover from `buildHandover()` written to its stdin (then zeroed). Its stdout
 * is read as the supervisor reads it: the readiness line, then one signed audit
 * event per line, verified with the agent's own public key.
 *
 * The agents', intake's and any other harness that runs an agent on its own use
 * this module; what they add is the home they start it in.
 *
 * @module
 */
import type { Capset } from "../../core/domain/capset/types.ts";
import type { HomeConfig } from "../../core/domain/home/config.ts";
import type { HomeLayout } from "../../core/domain/home/layout.ts";
import type { KeyStore } from "../../core/domain/keys/keystore.ts";
import { type AuditEvent, decodeEvent } from "../../core/domain/ledger/events.ts";
import type { ToolManifest } from "../../core/domain/toolgate/manifest.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { parseDsse } from "../../core/primitives/dsse/parse.ts";
import { PAYLOAD_TYPES, type TrustedKeySet } from "../../core/primitives/dsse/types.ts";
import { verifySignatures } from "../../core/primitives/dsse/verify.ts";
import { parseReadyLine } from "../../core/services/runtime/protocol.ts";
import { agentCommand } from "../../core/services/supervisor/agent_command.ts";
import { DOC_SANDBOX_HOST } from "../../core/services/supervisor/sandbox_host.ts";
import { buildHandover } from "../../core/services/supervisor/handover.ts";

/** Options for {@linkcode spawnAgent}. */
export interface SpawnAgentOptions {
  /** The agent to run (its capset's agent). */
  agent: string;
  /** Its verified capset. */
  capset: Capset;
  home: HomeLayout;
  /** The home's config, as the handover carries it (edit it to change the handover). */
  config: HomeConfig;
  keys: KeyStore;
  /** The repository root the agent runs from. */
  repo: string;
  /** The verified tool manifest, for an agent with tools. */
  toolManifest?: ToolManifest;
  /** The agent's whole environment; default none. */
  env?: Record<string, string>;
  /** Longest report line accepted; default 1 MiB. */
  maxLineBytes?: number;
  /** How long the agent may take to report ready; default 15 s. */
  readyTimeoutMs?: number;
  /** Default deadline of {@linkcode AgentProcess.waitForEvent}; default 15 s. */
  eventTimeoutMs?: number;
  /**
   * What a stdout line that is neither the readiness line nor a verified event
   * of this agent does: `record` (default) records it and reads on, `stop` records
   * it and stops reading (every later wait then fails).
   */
  onBadLine?: "record" | "stop";
}

/** A running agent process. */
export interface AgentProcess {
  name: string;
  /** Exact argv after the Deno executable. */
  args: string[];
  /** The loopback address its readiness line reported, if any. */
  listen: string | undefined;
  /** Verified audit events reported so far, in order. */
  events: AuditEvent[];
  /** The exact payload bytes of {@linkcode AgentProcess.events} (what a supervisor appends). */
  rawEvents: Uint8Array[];
  /** Raw stdout lines that were neither the readiness line nor a verified event (must stay empty). */
  strayLines: string[];
  /** Why each of {@linkcode AgentProcess.strayLines} broke the stdout protocol. */
  problems: string[];
  /** Everything the agent wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the first event (already seen or future) matching `match`, or fails after `timeoutMs`. */
  waitForEvent(match: (e: AuditEvent) => boolean, timeoutMs?: number): Promise<AuditEvent>;
  /** SIGTERM, then waits for the exit and for its output to be read. */
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

/**
 * Spawns the agent with the supervisor's Deno command (its permission flags,
 * cleared environment and handover) and waits for its readiness line. The
 * operating-system sandbox around it is left out: these tests drive one
 * agent's own code, and the sandbox has its own tests through the supervisor.
 */
export async function spawnAgent(options: SpawnAgentOptions): Promise<AgentProcess> {
  const { agent } = options;
  const signer = await SigningKey.fromSeed((await options.keys.loadAgent(agent)).seed);
  const trusted: TrustedKeySet = {
    name: agent,
    keys: [{ keyid: signer.keyid, publicKey: signer.publicKey }],
    threshold: 1,
  };
  const cmd = agentCommand({
    capset: options.capset,
    home: options.home,
    repo: options.repo,
    sandboxHost: DOC_SANDBOX_HOST,
    ...(options.toolManifest === undefined ? {} : { toolManifest: options.toolManifest }),
  });
  const child = new Deno.Command(cmd.deno, {
    args: cmd.args,
    cwd: options.repo,
    clearEnv: true,
    env: options.env ?? {},
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const handover = await buildHandover({
    agent,
    home: options.home,
    repo: options.repo,
    config: options.config,
    keys: options.keys,
  });
  // as the supervisor does: the pipe stays open (the agent's lifeline) until the agent exits
  const writer = child.stdin.getWriter();
  await writer.write(handover);
  void child.status.then(() => writer.close()).catch(() => {});
  handover.fill(0);

  const maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  const events: AuditEvent[] = [];
  const rawEvents: Uint8Array[] = [];
  const strayLines: string[] = [];
  const problems: string[] = [];
  const waiters = new Set<() => void>();
  const ready = Promise.withResolvers<void>();
  let listen: string | undefined;
  let errText = "";

  async function readEvent(line: string): Promise<void> {
    const env = parseDsse(new TextEncoder().encode(line), maxLineBytes);
    await verifySignatures(env, {
      trusted: [trusted],
      signatureCode: "bad_signature",
      what: `${agent} audit event`,
    });
    if (env.payloadType !== PAYLOAD_TYPES.auditEvent) throw new Error("not an audit event");
    const event = decodeEvent(env.payload);
    if (event.agent !== agent) throw new Error(`event names ${event.agent}, not ${agent}`);
    events.push(event);
    rawEvents.push(env.payload);
  }

  const stdoutDone = (async () => {
    for await (const line of lines(child.stdout)) {
      const readiness = parseReadyLine(line);
      if (readiness !== undefined) {
        listen = readiness.listen;
        ready.resolve();
        continue;
      }
      try {
        await readEvent(line);
      } catch (err: unknown) {
        strayLines.push(line);
        problems.push(`stdout protocol violation: ${String(err)}`);
        if (options.onBadLine === "stop") break;
      } finally {
        for (const wake of waiters) wake();
      }
    }
  })();
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) errText += decoder.decode(chunk, { stream: true });
  })();
  const status = child.status;
  const readers = () => Promise.allSettled([stdoutDone, stderrDone]);

  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const timer = setTimeout(
    () => ready.reject(new Error(`${agent} did not report ready within ${readyTimeoutMs} ms`)),
    readyTimeoutMs,
  );
  status.then(async (s) => {
    await stderrDone.catch(() => {});
    ready.reject(new Error(`${agent} exited with ${s.code} before it was ready:\n${errText}`));
  });
  try {
    await ready.promise;
  } catch (err: unknown) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await status.catch(() => {});
    await readers();
    throw err;
  } finally {
    clearTimeout(timer);
  }

  const eventTimeoutMs = options.eventTimeoutMs ?? 15_000;
  return {
    name: agent,
    args: cmd.args,
    get listen() {
      return listen;
    },
    events,
    rawEvents,
    strayLines,
    problems,
    stderr: () => errText,
    waitForEvent(match, timeoutMs = eventTimeoutMs) {
      return new Promise<AuditEvent>((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found === undefined) return false;
          waiters.delete(check);
          clearTimeout(deadline);
          resolve(found);
          return true;
        };
        const deadline = setTimeout(() => {
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
      await readers();
      return s;
    },
  };
}
