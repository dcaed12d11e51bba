/**
 * The runtime every agent process shares: it receives its secrets from the
 * supervisor over stdin, verifies its trust state, watches its inbox with
 * `Deno.watchFs` (plus a rare reconciliation scan), runs each entry through
 * quarantine → 14-step validation → handler → delete (or dead-letter with a
 * reason), sends signed envelopes into its peers' inboxes, reports signed audit
 * events on stdout, and stops cleanly on SIGTERM/SIGINT after in-flight work.
 *
 * An agent module (`agents/<name>.ts`) only supplies an {@linkcode AgentDefinition}.
 *
 * Trust is loaded once, at start; the supervisor restarts an agent to give it a
 * new trust state (key rotation, revocation, renewal). So that a running agent
 * never has to read a statement signed under a newer root mid-flight, every
 * template in its vault scope is verified and cached at start. Expiry still
 * applies while it runs: the root and the key directory are checked on every
 * envelope (`expired` at validation step 3), the capability set and template
 * manifests by their own stores, and the tool manifest before every plan
 * (`plan_rejected` with `expired`).
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../errors.ts";
import { SigningKey } from "../crypto/ed25519.ts";
import type { JsonObject } from "../json/strict_parse.ts";
import { systemClock } from "../time/clock.ts";
import type { Capset } from "../capset/types.ts";
import { agentSubdir, type HomeLayout, homeLayout } from "../home/layout.ts";
import { FileVersionStore } from "../trust/version_store_file.ts";
import { createValidator, type ValidatedEnvelope } from "../validate/validator.ts";
import { SqliteReplayStore } from "../validate/replay_store.ts";
import { MemoryQuotaStore } from "../validate/quota_store.ts";
import {
  createEnvelope,
  envelopeIds,
  type EnvelopeTemplateRef,
  signEnvelope,
} from "../validate/envelope.ts";
import { type PipelineOptions, processEntry, recoverQuarantine } from "../queue/process.ts";
import type { EntryOrigin, QueuedEntry } from "../queue/types.ts";
import { type InboxTransport, watchInbox } from "../queue/inbox.ts";
import { pollInboxForBenchmark } from "../queue/polling_inbox.ts";
import { queuePaths } from "../queue/paths.ts";
import { sendEnvelope } from "../queue/send.ts";
import { createToolGate, type ToolGate } from "../toolgate/gate.ts";
import { verifyToolManifest } from "../toolgate/manifest.ts";
import { toolManifestPath } from "../vault/layout.ts";
import { type AgentTrust, loadAgentTrust } from "./agent_trust.ts";
import { type AgentEventFields, EventSink } from "./event_sink.ts";
import { readHandover, READY_LINE, type ReceivedHandover } from "./protocol.ts";
import { sendTemplateRefs } from "./template_refs.ts";
import type { SenderKeyLookup, SenderKeys } from "../validate/ports.ts";
import type { Clock } from "../time/clock.ts";
import { parseTimestamp } from "../time/timestamp.ts";
import { templateDir } from "../vault/layout.ts";
import type { VaultReader } from "../vault/reader.ts";

/** What to send: the runtime signs it and drops it atomically into the peer's inbox. */
export interface SendOptions {
  to: string;
  template: string;
  payload: JsonObject;
  sessionId: string;
  /** Default: a new random UUID. */
  envelopeId?: string;
  humanReadable: string;
}

/** What a handler can use. */
export interface AgentContext {
  readonly agent: string;
  readonly home: HomeLayout;
  /** Absolute repository root. */
  readonly repo: string;
  readonly capset: Capset;
  readonly trust: AgentTrust;
  readonly handover: ReceivedHandover;
  readonly signer: SigningKey;
  /** `agents/<me>/store/`: the agent's private state. */
  readonly storeDir: string;
  /** Aborted when the agent is asked to stop. */
  readonly signal: AbortSignal;
  /** The ToolGate, for agents whose capset names tools. */
  readonly toolgate: ToolGate | undefined;
  /** Reports a signed audit event. */
  emit(fields: AgentEventFields): Promise<void>;
  /** Signs and sends an envelope; returns its id. */
  send(options: SendOptions): Promise<string>;
  /** The reference of a template this agent sends. */
  templateRef(id: string): EnvelopeTemplateRef;
}

/** One agent: its name, its handler and any service it runs besides its inbox. */
export interface AgentDefinition {
  name: string;
  /** Acts on a validated envelope; throwing dead-letters it as `handler_error`. */
  handle?(ctx: AgentContext, validated: ValidatedEnvelope): Promise<void>;
  /** Starts a service (e.g. intake's HTTP API); returns how to stop it. */
  start?(ctx: AgentContext): Promise<(() => Promise<void>) | void>;
}

const QUARANTINE_EVENT_INTERVAL_MS = 60_000;
/** Exit code when a tool timed out and the process must be replaced. */
export const EXIT_RESTART = 75;
/** Exit code when the agent cannot start (bad handover or trust state). */
export const EXIT_CONFIG = 78;

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}

async function countDead(deadDir: string): Promise<number> {
  let n = 0;
  for await (const entry of Deno.readDir(deadDir)) if (entry.name.endsWith(".satl")) n++;
  return n;
}

/** A statement whose expiry is re-checked while the agent runs. */
export interface ExpiringStatement {
  /** For the message, e.g. `agent key directory v3`. */
  what: string;
  expires_at: string;
}

/**
 * Refuses (`expired`) once any of `statements` has expired (beyond the skew).
 *
 * @example
 * ```ts
 * import { checkNotExpired } from "./agent_runtime.ts";
 * const at = Date.parse("2026-01-02T00:00:00Z");
 * checkNotExpired([{ what: "trust root v1", expires_at: "2026-01-03T00:00:00Z" }], at, 0);
 * ```
 */
export function checkNotExpired(
  statements: readonly ExpiringStatement[],
  nowMs: number,
  skewMs: number,
): void {
  for (const s of statements) {
    if (nowMs > parseTimestamp(s.expires_at)! + skewMs) {
      throw new SaoeError("expired", `Cannot rely on the ${s.what}: it expired at ${s.expires_at}`);
    }
  }
}

/**
 * The key directory as the validator reads it, refusing with `expired` once the
 * directory or the root that vouches for it has expired (trust is loaded once;
 * without this a long-running agent would keep trusting them past their expiry).
 *
 * @example
 * ```ts
 * import { expiringDirectory } from "./agent_runtime.ts";
 * const directory = { senderKeys: () => ({ status: "unknown" as const }) };
 * const lookup = expiringDirectory(directory, {
 *   statements: [{ what: "agent key directory v1", expires_at: "2026-01-01T00:00:00Z" }],
 *   skewMs: 0,
 * });
 * let code = "";
 * try {
 *   lookup.senderKeys("planner", Date.parse("2026-02-01T00:00:00Z"));
 * } catch (err) {
 *   code = (err as { code: string }).code;
 * }
 * if (code !== "expired") throw new Error();
 * ```
 */
export function expiringDirectory(
  directory: SenderKeyLookup,
  options: { statements: readonly ExpiringStatement[]; skewMs: number },
): SenderKeyLookup {
  return {
    senderKeys(agent: string, nowMs: number): SenderKeys {
      checkNotExpired(options.statements, nowMs, options.skewMs);
      return directory.senderKeys(agent, nowMs);
    },
  };
}

/** Options for {@linkcode guardToolManifestExpiry}. */
export interface ToolManifestGuardOptions {
  manifest: ExpiringStatement;
  clock: Clock;
  skewMs: number;
  /** Reports the refusal (a `plan_rejected` event). */
  onRefused(err: SaoeError, request: { sessionId: string; envelopeId: string }): Promise<void>;
}

/** A ToolGate that refuses every plan (`expired`) once the tool manifest has expired. */
export function guardToolManifestExpiry(
  gate: ToolGate,
  options: ToolManifestGuardOptions,
): ToolGate {
  return {
    get stopped() {
      return gate.stopped;
    },
    prewarm: () => gate.prewarm(),
    async execute(request) {
      try {
        checkNotExpired([options.manifest], options.clock.now(), options.skewMs);
      } catch (err: unknown) {
        if (err instanceof SaoeError) await options.onRefused(err, request);
        throw err;
      }
      return await gate.execute(request);
    },
  };
}

const MANIFEST_NAME_RE = /^([1-9][0-9]{0,9})\.manifest\.json$/;

/**
 * Verifies and caches the newest version of every template in `scope` (a template
 * that does not resolve now is left to be refused when an envelope names it).
 */
async function warmTemplates(
  vaultDir: string,
  vault: VaultReader,
  scope: readonly string[],
): Promise<void> {
  for (const id of scope) {
    let newest = 0;
    try {
      for await (const entry of Deno.readDir(templateDir(vaultDir, id))) {
        const m = MANIFEST_NAME_RE.exec(entry.name);
        if (m !== null) newest = Math.max(newest, Number(m[1]));
      }
      if (newest > 0) await vault.resolve(id, newest, scope);
    } catch {
      // refused later, per envelope, with its reason code
    }
  }
}

/** Plans claimed while the current envelope is handled, finished with it. */
interface PlanClaims {
  pending: string[];
  settle(outcome: "done" | "failed"): Promise<void>;
}

async function setup(def: AgentDefinition, handover: ReceivedHandover, signal: AbortSignal) {
  if (handover.agent !== def.name) {
    throw new SaoeError("bad_config", `This is agent "${def.name}", not "${handover.agent}"`);
  }
  const clock = systemClock;
  const home = homeLayout(handover.home);
  const signer = await SigningKey.fromSeed(handover.seed);
  handover.seed.fill(0);
  const storeDir = agentSubdir(home, def.name, "store");
  const versionStore = new FileVersionStore(join(storeDir, "versions.json"));
  const trust = await loadAgentTrust({
    home,
    agent: def.name,
    ageIdentity: handover.age_identity,
    rootPin: handover.root_pin,
    clock,
    skewMs: handover.skew_ms,
    versionStore,
  });
  const capset = trust.capset;
  const refs = await sendTemplateRefs(home.vault, trust.vault, capset);
  await warmTemplates(home.vault, trust.vault, capset.vault);
  const sink = new EventSink({ agent: def.name, signer, clock });
  let toolgate: ToolGate | undefined;
  const planClaims: PlanClaims = { pending: [], settle: () => Promise.resolve() };
  if (capset.tools.length > 0) {
    const manifest = await verifyToolManifest(await Deno.readFile(toolManifestPath(home.vault)), {
      dispatcher: trust.root.trusted,
      clock,
      skewMs: handover.skew_ms,
    });
    const planner = trust.directory.senderKeys("planner", clock.now());
    if (planner.status !== "ok") {
      throw new SaoeError("unknown_sender", "Cannot start ToolGate: the planner has no valid key");
    }
    const usedPlans = SqliteReplayStore.open(join(storeDir, "plans.db"), { synchronous: "normal" });
    planClaims.settle = async (outcome) => {
      const ids = planClaims.pending.splice(0);
      // a failed envelope leaves its plans resumable: an operator retry re-opens the
      // envelope's claim, and its plan may then run again (for that envelope only)
      if (outcome === "done") { for (const id of ids) await usedPlans.finish(id, "done"); }
    };
    const gate = createToolGate({
      agent: def.name,
      capset,
      manifest,
      repoRoot: handover.repo,
      plannerKeys: { name: "planner", keys: planner.current, threshold: 1 },
      clock,
      skewMs: handover.skew_ms,
      // a plan interrupted by a crash may run again for its own (resumed) envelope:
      // the plan is bound to that envelope, whose replay claim is the real gate.
      // Its claim is finished with the envelope (planClaims.settle), not when its
      // tools return: a crash between the tool calls and the send must not leave a
      // plan that ran but whose result was never delivered, and cannot run again.
      usedPlans: {
        claim: async (id: string) => {
          const claimed = (await usedPlans.claimOrResume(id)) !== "refused";
          if (claimed) planClaims.pending.push(id);
          return claimed;
        },
      },
      onEvent: (e) =>
        e.type === "tool_executed"
          ? sink.emit({
            type: "tool_executed",
            session_id: e.session_id,
            envelope_id: e.envelope_id,
            detail: { tool: e.tool, plan_id: e.plan_id, call_id: e.call_id },
          })
          : sink.emit({
            type: "plan_rejected",
            session_id: e.session_id,
            envelope_id: e.envelope_id,
            reason: e.reason,
            detail: { message: e.message, ...(e.plan_id ? { plan_id: e.plan_id } : {}) },
          }),
    });
    toolgate = guardToolManifestExpiry(gate, {
      manifest: { what: `tool manifest v${manifest.version}`, expires_at: manifest.expires_at },
      clock,
      skewMs: handover.skew_ms,
      onRefused: (err, request) =>
        sink.emit({
          type: "plan_rejected",
          session_id: request.sessionId,
          envelope_id: request.envelopeId,
          reason: err.code,
          detail: { message: err.message.slice(0, 500) },
        }),
    });
  }
  const ctx: AgentContext = {
    agent: def.name,
    home,
    repo: handover.repo,
    capset,
    trust,
    handover,
    signer,
    storeDir,
    signal,
    toolgate,
    emit: (fields) => sink.emit(fields),
    templateRef(id) {
      const ref = refs.get(id);
      if (ref === undefined) {
        throw new SaoeError(
          "edge_not_allowed",
          `Agent "${def.name}" does not send template "${id}"`,
        );
      }
      return ref;
    },
    async send(o) {
      const allowed = capset.sends.some((s) => s.to === o.to && s.templates.includes(o.template));
      if (!allowed) {
        throw new SaoeError(
          "edge_not_allowed",
          `Cannot send "${o.template}" from "${def.name}" to "${o.to}": the capability set does not allow it`,
        );
      }
      const fields = createEnvelope({
        sender: def.name,
        receiver: o.to,
        template: ctx.templateRef(o.template),
        payload: o.payload,
        session_id: o.sessionId,
        ...(o.envelopeId !== undefined ? { envelope_id: o.envelopeId } : {}),
        human_readable: o.humanReadable,
        clock,
      });
      const bytes = await signEnvelope({ fields, signer });
      // reported once the envelope is durable and just before it becomes visible:
      // the ledger keeps causal order (the receiver's `validated` cannot precede it)
      // and `forwarded.at` → `validated.at` measures exactly rename → validated; a
      // failed drop fails the handler, which reports `handler_error`
      await sendEnvelope({
        home,
        sender: def.name,
        receiver: o.to,
        envelopeId: fields.envelope_id,
        bytes,
        beforeDeliver: () =>
          sink.emit({
            type: "forwarded",
            session_id: fields.session_id,
            envelope_id: fields.envelope_id,
            detail: { to: o.to, template: o.template },
          }),
      });
      return fields.envelope_id;
    },
  };
  return { ctx, sink, clock, versionStore, planClaims };
}

/**
 * Runs an agent until it is told to stop. Never returns: exits the process.
 *
 * @example
 * ```ts ignore
 * import { runAgent } from "../core/runtime/agent_runtime.ts";
 * if (import.meta.main) await runAgent({ name: "sanitization", handle: async (ctx, v) => {} });
 * ```
 */
export async function runAgent(def: AgentDefinition): Promise<never> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  let handover: ReceivedHandover;
  let state: Awaited<ReturnType<typeof setup>>;
  try {
    handover = await readHandover();
    state = await setup(def, handover, controller.signal);
  } catch (err: unknown) {
    const code = err instanceof SaoeError ? ` (${err.code})` : "";
    console.error(`${def.name}: cannot start: ${message(err)}${code}`);
    Deno.exit(EXIT_CONFIG);
  }
  const { ctx, sink, clock } = state;
  const paths = queuePaths(ctx.home, def.name);
  const senders = ctx.capset.receives.map((r) => r.from);
  let transport: InboxTransport | undefined;
  let stopService: (() => Promise<void>) | void = undefined;
  let lastQuarantineEvent = -Infinity;
  let closeStores = () => {};

  if (senders.length > 0 && def.handle !== undefined) {
    const handle = def.handle;
    const replay = SqliteReplayStore.open(join(ctx.storeDir, "replay.db"), {
      synchronous: "normal",
    });
    const common = {
      me: def.name,
      directory: expiringDirectory(ctx.trust.directory, {
        statements: [
          { what: `trust root v${ctx.trust.root.version}`, expires_at: ctx.trust.root.expires_at },
          {
            what: `agent key directory v${ctx.trust.directory.version}`,
            expires_at: ctx.trust.directory.expires_at,
          },
        ],
        skewMs: handover.skew_ms,
      }),
      capsets: ctx.trust.capsets,
      vault: ctx.trust.vault,
      quota: new MemoryQuotaStore(),
      clock,
      skewMs: handover.skew_ms,
    };
    // a claim interrupted by a crash is resumed (the recovered entry runs again);
    // an envelope already handled or dead-lettered is a replay
    const validator = createValidator({
      ...common,
      replay: { claim: async (id: string) => (await replay.claimOrResume(id)) !== "refused" },
    });
    // an operator retry: the id must be claimed here and not handled yet
    const retryValidator = createValidator({
      ...common,
      replay: { claim: (id: string) => replay.reopen(id) },
    });
    const pipeline: PipelineOptions<ValidatedEnvelope> = {
      quarantineDir: paths.quarantine,
      deadDir: paths.dead,
      async validate(entry: QueuedEntry) {
        const v = await (entry.origin.kind === "retry" ? retryValidator : validator).validateFile(
          entry.path,
        );
        if (entry.origin.kind === "inbox" && v.envelope.sender !== entry.origin.sender) {
          // only the sender may write its folder: a mismatch means the folder was written by someone else
          throw new SaoeError(
            "edge_not_allowed",
            `Cannot accept envelope ${v.envelope.envelope_id}: signed by "${v.envelope.sender}" but found in the folder of "${entry.origin.sender}"`,
            envelopeIds(v.envelope),
          );
        }
        await sink.emit({
          type: "validated",
          session_id: v.envelope.session_id,
          envelope_id: v.envelope.envelope_id,
          detail: { sender: v.envelope.sender, template: v.envelope.template.id },
        });
        return v;
      },
      async handle(v) {
        try {
          await handle(ctx, v);
        } catch (err: unknown) {
          await state.planClaims.settle("failed");
          await replay.finish(v.envelope.envelope_id, "failed");
          throw err;
        }
        // the envelope first: a crash between the two leaves a plan claim open whose
        // envelope can never be resumed, never a resumed envelope whose plan is closed
        await replay.finish(v.envelope.envelope_id, "done");
        await state.planClaims.settle("done");
      },
      idsOf: (v) => envelopeIds(v.envelope),
      onRefused: (err, ids) =>
        sink.emit({
          type: "rejected",
          ...(ids.session_id ? { session_id: ids.session_id } : {}),
          ...(ids.envelope_id ? { envelope_id: ids.envelope_id } : {}),
          reason: err.code,
          detail: {
            message: err.message.slice(0, 500),
            ...(ids.sender ? { sender: ids.sender } : {}),
          },
        }),
      onHandlerError: (err, ids) =>
        sink.emit({
          type: "handler_error",
          ...(ids.session_id ? { session_id: ids.session_id } : {}),
          ...(ids.envelope_id ? { envelope_id: ids.envelope_id } : {}),
          reason: "handler_error",
          detail: {
            message: message(err),
            ...(err instanceof SaoeError ? { code: err.code } : {}),
          },
        }),
      clock,
    };
    await Deno.mkdir(paths.retry, { recursive: true });
    await recoverQuarantine(pipeline);
    const onEntry = async (path: string, origin: EntryOrigin) => {
      // a full dead-letter area stops intake for this agent only, until an operator acts
      if (await countDead(paths.dead) >= ctx.capset.limits.max_quarantine) {
        if (clock.now() - lastQuarantineEvent >= QUARANTINE_EVENT_INTERVAL_MS) {
          lastQuarantineEvent = clock.now();
          await sink.emit({
            type: "quarantine_limit_exceeded",
            reason: "handler_error",
            detail: { limit: ctx.capset.limits.max_quarantine },
          });
        }
        return;
      }
      await processEntry({ ...pipeline, path, origin });
      if (ctx.toolgate?.stopped === true) {
        console.error(
          `${def.name}: a tool timed out; exiting so the supervisor restarts this agent`,
        );
        controller.abort();
      }
    };
    const options = {
      inbox: paths.inbox,
      senders,
      retryDir: paths.retry,
      onEntry,
      signal: controller.signal,
      onError: (err: unknown) => console.error(`${def.name}: ${message(err)}`),
    };
    transport = handover.transport === "poll"
      ? await pollInboxForBenchmark(options)
      : await watchInbox({ ...options, reconcileMs: handover.reconcile_ms });
    closeStores = () => replay.close();
  }
  try {
    stopService = await def.start?.(ctx);
  } catch (err: unknown) {
    console.error(`${def.name}: cannot start its service: ${message(err)}`);
    Deno.exit(EXIT_CONFIG);
  }
  ctx.toolgate?.prewarm().catch((err: unknown) =>
    console.error(`${def.name}: cannot pre-start tool workers: ${message(err)}`)
  );
  await sink.control(READY_LINE);
  // an agent whose supervisor died (its parent changed) stops instead of working unaudited
  const parent = Deno.ppid;
  const orphanCheck = setInterval(() => {
    if (Deno.ppid !== parent) {
      console.error(`${def.name}: the supervisor is gone; stopping`);
      controller.abort();
    }
  }, handover.reconcile_ms);
  controller.signal.addEventListener("abort", () => clearInterval(orphanCheck), { once: true });
  await new Promise<void>((resolve) => {
    if (controller.signal.aborted) resolve();
    else controller.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await transport?.closed;
  if (typeof stopService === "function") await stopService();
  closeStores();
  Deno.exit(ctx.toolgate?.stopped === true ? EXIT_RESTART : 0);
}
