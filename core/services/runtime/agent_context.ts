/**
 * What an agent's handler works with ({@linkcode AgentContext}), built once at
 * start from the supervisor's handover: the agent's signing key, its trust state
 * verified from the pinned root (capability set, key directory, vault), its
 * ToolGate when its capset names tools, and `send`, which signs an envelope and
 * drops it atomically into a peer's inbox only along an edge the capset allows.
 *
 * Every template in the agent's vault scope is verified and cached at start, so
 * a running agent never has to read a statement signed under a newer root
 * mid-flight; the supervisor restarts an agent to give it a new trust state.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { Capset } from "../../domain/capset/types.ts";
import { agentSubdir, type HomeLayout, homeLayout } from "../../domain/home/layout.ts";
import { FileVersionStore } from "../../domain/trust/version_store_file.ts";
import { FloorVersionStore } from "../../domain/trust/version_store_floor.ts";
import type { ValidatedEnvelope } from "../../domain/validate/validator.ts";
import {
  createEnvelope,
  type EnvelopeTemplateRef,
  signEnvelope,
} from "../../domain/validate/envelope.ts";
import { sendEnvelope } from "../../domain/queue/send.ts";
import type { ToolGate } from "../../domain/toolgate/gate.ts";
import { templateDir } from "../../domain/vault/layout.ts";
import type { VaultReader } from "../../domain/vault/reader.ts";
import { type AgentTrust, loadAgentTrust } from "./agent_trust.ts";
import { type AgentEventFields, EventSink } from "./event_sink.ts";
import type { ReceivedHandover } from "./protocol.ts";
import { sendTemplateRefs } from "./template_refs.ts";
import { NO_PLAN_CLAIMS, openAgentToolGate, type PlanClaims } from "./agent_toolgate.ts";

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

/** A service an agent runs besides its inbox (intake's API, the viewer). */
export interface AgentService {
  /** Stops it (after the inbox loop drained). */
  stop(): Promise<void>;
  /** The loopback address it listens on (`127.0.0.1:PORT`), reported to the supervisor. */
  listen?: string;
}

/** One agent: its name, its handler and any service it runs besides its inbox. */
export interface AgentDefinition {
  name: string;
  /** Acts on a validated envelope; throwing dead-letters it as `handler_error`. */
  handle?(ctx: AgentContext, validated: ValidatedEnvelope): Promise<void>;
  /** Starts a service (e.g. intake's HTTP API) and resolves once it serves. */
  start?(ctx: AgentContext): Promise<AgentService | void>;
}

/** A started agent's context and the pieces the inbox loop needs besides it. */
export interface AgentState {
  ctx: AgentContext;
  sink: EventSink;
  clock: Clock;
  planClaims: PlanClaims;
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

/** Options for {@linkcode createAgentState}. */
export interface CreateAgentStateOptions {
  def: AgentDefinition;
  handover: ReceivedHandover;
  signal: AbortSignal;
  clock: Clock;
}

/** Verifies the agent's trust state from its handover and builds its context. */
export async function createAgentState(options: CreateAgentStateOptions): Promise<AgentState> {
  const { def, handover, signal, clock } = options;
  if (handover.agent !== def.name) {
    throw new SaoeError("bad_config", `This is agent "${def.name}", not "${handover.agent}"`);
  }
  const home = homeLayout(handover.home);
  const signer = await SigningKey.fromSeed(handover.seed);
  handover.seed.fill(0);
  const storeDir = agentSubdir(home, def.name, "store");
  const ownStore = new FileVersionStore(join(storeDir, "versions.json"));
  // the floor from the supervisor's witnessed ledger: a copied-back versions.json
  // does not re-open what the pipeline already left behind
  const floor = handover.trust_floor;
  const trust = await loadAgentTrust({
    home,
    agent: def.name,
    ageIdentity: handover.age_identity,
    rootPin: handover.root_pin,
    clock,
    skewMs: handover.skew_ms,
    versionStore: floor === undefined ? ownStore : new FloorVersionStore(ownStore, floor.versions),
    ...(floor !== undefined ? { revokedKeyIds: floor.revoked_keyids } : {}),
  });
  const capset = trust.capset;
  const refs = await sendTemplateRefs(home.vault, trust.vault, capset);
  await warmTemplates(home.vault, trust.vault, capset.vault);
  const sink = new EventSink({ agent: def.name, signer, clock });
  const { toolgate, planClaims } = capset.tools.length > 0
    ? await openAgentToolGate({
      agent: def.name,
      home,
      repo: handover.repo,
      capset,
      trust,
      storeDir,
      sink,
      clock,
      skewMs: handover.skew_ms,
    })
    : { toolgate: undefined, planClaims: NO_PLAN_CLAIMS };
  const templateRef = (id: string): EnvelopeTemplateRef => {
    const ref = refs.get(id);
    if (ref === undefined) {
      throw new SaoeError("edge_not_allowed", `Agent "${def.name}" does not send template "${id}"`);
    }
    return ref;
  };
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
    templateRef,
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
        template: templateRef(o.template),
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
  return { ctx, sink, clock, planClaims };
}
