/**
 * Port implementations for validator tests, backed by real signed statements:
 * capability sets and template manifests are signed by a dispatcher key and
 * verified with `verifyStatement` on every call, envelopes are signed with real
 * sender keys. Every port counts its calls, so a test can assert that no step
 * after the refusing one ran.
 *
 * @module
 */
import { SaoeError } from "../../../core/primitives/errors.ts";
import { constantTimeEqualText, sha256Hex, utf8 } from "../../../core/primitives/crypto/bytes.ts";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES, type PublicKeyEntry } from "../../../core/primitives/dsse/types.ts";
import { signStatement } from "../../../core/primitives/dsse/sign.ts";
import { verifyStatement } from "../../../core/primitives/dsse/verify.ts";
import type { JsonObject } from "../../../core/primitives/json/strict_parse.ts";
import { parseStrictJson } from "../../../core/primitives/json/strict_parse.ts";
import { type Capset, type CapsetSource, decodeCapset } from "../../../core/domain/capset/types.ts";
import {
  decodeTemplate,
  decodeTemplateManifest,
  type Template,
} from "../../../core/domain/vault/template_types.ts";
import { formatTimestamp } from "../../../core/primitives/time/timestamp.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import type { CapsetProvider } from "../../../core/domain/capset/provider.ts";
import type { SenderKeyLookup, SenderKeys } from "../../../core/domain/trust/sender_keys.ts";
import type { ResolvedTemplate, TemplateResolver } from "../../../core/domain/vault/resolver.ts";
import {
  createEnvelope,
  type Envelope,
  signEnvelope,
} from "../../../core/domain/validate/envelope.ts";
import { MemoryQuotaStore, type QuotaStore } from "../../../core/domain/validate/quota_store.ts";
import { MemoryReplayStore, type ReplayStore } from "../../../core/domain/validate/replay_store.ts";
import { createValidator, type Validator } from "../../../core/domain/validate/validator.ts";

/** Start of fake time in every fixture world. */
export const T0 = Date.parse("2026-01-01T00:00:00Z");
/** The receiving agent. */
export const ME = "planner";
/** The sender whose edge and template policy allow it. */
export const SENDER = "sanitization";
/** A sender whose edge is allowed by both capsets but not by the template policy. */
export const OTHER = "intake";
/** The template of the allowed edge. */
export const TEMPLATE_ID = "article_intent";
const DAY = 86_400_000;

async function newKey(): Promise<SigningKey> {
  return await SigningKey.fromSeed(generateSeed());
}

function entry(key: SigningKey): PublicKeyEntry {
  return { keyid: key.keyid, publicKey: key.publicKey };
}

/** An agent key directory with validity windows; counts lookups. */
export class FixtureDirectory implements SenderKeyLookup {
  calls = 0;
  #keys = new Map<string, { key: PublicKeyEntry; from: number; until: number }[]>();

  /** Lists `key` for `agent`, valid in `[from, until)`. */
  add(agent: string, key: SigningKey, window: { from: number; until: number }): void {
    const list = this.#keys.get(agent) ?? [];
    list.push({ key: entry(key), ...window });
    this.#keys.set(agent, list);
  }

  /** Ends the window of every key of `agent` at `atMs` (the dispatcher revoked it). */
  revoke(agent: string, atMs: number): void {
    for (const k of this.#keys.get(agent) ?? []) k.until = Math.min(k.until, atMs);
  }

  senderKeys(agent: string, nowMs: number): SenderKeys {
    this.calls++;
    const list = this.#keys.get(agent);
    if (list === undefined) return { status: "unknown" };
    const current = list.filter((k) => k.from <= nowMs && nowMs < k.until).map((k) => k.key);
    const retired = list.filter((k) => !(k.from <= nowMs && nowMs < k.until)).map((k) => k.key);
    return current.length === 0 ? { status: "revoked", retired } : {
      status: "ok",
      current,
      retired,
    };
  }
}

/** Capability sets signed by the dispatcher, verified on every `inForce`; counts calls. */
export class FixtureCapsets implements CapsetProvider {
  /** Agents asked for, in order. */
  calls: string[] = [];
  #signed = new Map<string, Uint8Array>();
  #dispatcher: SigningKey;
  #clock: FakeClock;

  constructor(dispatcher: SigningKey, clock: FakeClock) {
    this.#dispatcher = dispatcher;
    this.#clock = clock;
  }

  /** Signs and stores `source` (by `signer`, default the dispatcher). */
  async put(source: CapsetSource, options: { signer?: SigningKey } = {}): Promise<void> {
    const now = this.#clock.now();
    const bytes = await signStatement({
      payloadType: PAYLOAD_TYPES.capset,
      payload: {
        ...source,
        issued_at: formatTimestamp(now),
        expires_at: formatTimestamp(now + DAY),
      },
      signers: [options.signer ?? this.#dispatcher],
    });
    this.#signed.set(source.agent, bytes);
  }

  async inForce(agent: string): Promise<Capset> {
    this.calls.push(agent);
    const bytes = this.#signed.get(agent);
    if (bytes === undefined) {
      throw new SaoeError("capset_signature", `No capability set for "${agent}"`);
    }
    const verified = await verifyStatement(bytes, {
      payloadType: PAYLOAD_TYPES.capset,
      trusted: [{ name: "dispatcher", keys: [entry(this.#dispatcher)], threshold: 1 }],
      signatureCode: "capset_signature",
      what: `capability set for "${agent}"`,
      decode: decodeCapset,
      clock: this.#clock,
      skewMs: 0,
      maxBytes: 1 << 20,
    });
    return verified.payload;
  }
}

/** Templates with dispatcher-signed manifests; verified on every `resolve`; counts calls. */
export class FixtureVault implements TemplateResolver {
  /** Resolutions asked for, in order. */
  calls: { id: string; version: number; scope: readonly string[] }[] = [];
  /** Runs inside `resolve` before anything else (to change the world mid-validation). */
  onResolve: (() => Promise<void>) | undefined;
  #entries = new Map<string, { plaintext: Uint8Array<ArrayBuffer>; manifest: Uint8Array }>();
  #dispatcher: SigningKey;
  #clock: FakeClock;

  constructor(dispatcher: SigningKey, clock: FakeClock) {
    this.#dispatcher = dispatcher;
    this.#clock = clock;
  }

  /**
   * Stores `template` with a manifest signed by `signer` (default the dispatcher);
   * `tamper` stores different plaintext than the manifest hashes. Returns the
   * manifest's sha256.
   */
  async put(
    template: Template,
    options: { signer?: SigningKey; tamper?: boolean } = {},
  ): Promise<string> {
    const plaintext = utf8(JSON.stringify(template));
    const sha256 = await sha256Hex(plaintext);
    const now = this.#clock.now();
    const manifest = await signStatement({
      payloadType: PAYLOAD_TYPES.templateManifest,
      payload: {
        id: template.id,
        version: template.version,
        sha256,
        issued_at: formatTimestamp(now),
        expires_at: formatTimestamp(now + DAY),
      },
      signers: [options.signer ?? this.#dispatcher],
    });
    const stored = options.tamper === true
      ? utf8(JSON.stringify({ ...template, description: `${template.description} (edited)` }))
      : plaintext;
    this.#entries.set(`${template.id}@${template.version}`, { plaintext: stored, manifest });
    return sha256;
  }

  async resolve(id: string, version: number, scope: readonly string[]): Promise<ResolvedTemplate> {
    this.calls.push({ id, version, scope });
    await this.onResolve?.();
    if (!scope.includes(id)) {
      throw new SaoeError("vault_access", `Cannot open template "${id}": outside the vault scope`);
    }
    const stored = this.#entries.get(`${id}@${version}`);
    if (stored === undefined) {
      throw new SaoeError("vault_resolution", `Cannot find template "${id}" version ${version}`);
    }
    const manifest = await verifyStatement(stored.manifest, {
      payloadType: PAYLOAD_TYPES.templateManifest,
      trusted: [{ name: "dispatcher", keys: [entry(this.#dispatcher)], threshold: 1 }],
      signatureCode: "dispatcher_signature",
      what: `manifest of template "${id}"`,
      decode: decodeTemplateManifest,
      clock: this.#clock,
      skewMs: 0,
      maxBytes: 1 << 16,
    });
    const sha256 = await sha256Hex(stored.plaintext);
    if (!constantTimeEqualText(sha256, manifest.payload.sha256)) {
      throw new SaoeError("template_hash_mismatch", `Template "${id}" does not match its manifest`);
    }
    const template = decodeTemplate(parseStrictJson(stored.plaintext, { maxBytes: 1 << 20 }), "$");
    return { template, sha256 };
  }
}

/** A memory replay store that records every claim. */
export class CountingReplayStore implements ReplayStore {
  calls: string[] = [];
  #inner = new MemoryReplayStore();
  claim(envelopeId: string): Promise<boolean> {
    this.calls.push(envelopeId);
    return this.#inner.claim(envelopeId);
  }
}

/** A memory quota store that counts takes. */
export class CountingQuotaStore implements QuotaStore {
  calls = 0;
  #inner = new MemoryQuotaStore();
  take(sender: string, nowMs: number, limitPerMinute: number): boolean {
    this.calls++;
    return this.#inner.take(sender, nowMs, limitPerMinute);
  }
}

/** A capset source with no tools, files or network, receiving and sending as given. */
export function capsetSource(
  agent: string,
  edges: {
    receives?: { from: string; templates: string[] }[];
    sends?: { to: string; templates: string[] }[];
    vault?: string[];
    limits?: Partial<CapsetSource["limits"]>;
  },
): CapsetSource {
  return {
    agent,
    version: 1,
    receives: edges.receives ?? [],
    sends: edges.sends ?? [],
    tools: [],
    vault: edges.vault ?? [],
    fs: { read: [], write: [] },
    net: [],
    limits: {
      max_envelope_bytes: 4096,
      quota_per_minute: 100,
      max_inbox_depth: 100,
      max_quarantine: 100,
      ...edges.limits,
    },
  };
}

/** The template of the allowed edge. */
export function articleTemplate(policy: Partial<Template["policy"]> = {}): Template {
  return {
    id: TEMPLATE_ID,
    version: 1,
    description: "An article intent",
    schema: {
      type: "object",
      properties: { title: { type: "string", minLength: 1, maxLength: 1000 } },
      required: ["title"],
      additionalProperties: false,
    },
    policy: {
      allowed_senders: [SENDER, OTHER],
      allowed_receivers: [ME],
      max_payload_bytes: 200,
      ...policy,
    },
  };
}

/** Counter snapshot of every port. */
export interface Counts {
  directory: number;
  capsets: string[];
  vault: number;
  quota: number;
  replay: number;
}

/** Everything a validator test needs, wired together. */
export interface World {
  clock: FakeClock;
  dispatcher: SigningKey;
  keys: { sender: SigningKey; other: SigningKey; retired: SigningKey; stranger: SigningKey };
  directory: FixtureDirectory;
  capsets: FixtureCapsets;
  vault: FixtureVault;
  replay: CountingReplayStore;
  quota: CountingQuotaStore;
  validator: Validator;
  /** sha256 of the stored template plaintext. */
  templateSha256: string;
  /** A valid envelope from SENDER to ME; `overrides` replace fields (unchecked). */
  fields(overrides?: Record<string, unknown>): JsonObject;
  /** Signs fields (default: `fields()`) with `key` (default the sender's current key). */
  sign(fields?: JsonObject, key?: SigningKey): Promise<Uint8Array<ArrayBuffer>>;
  /** Current counter values. */
  counts(): Counts;
}

/** Options for {@linkcode buildWorld}. */
export interface WorldOptions {
  quotaPerMinute?: number;
  maxEnvelopeBytes?: number;
  policy?: Partial<Template["policy"]>;
  /** Replace the receiving agent's capset source. */
  myCapset?: (base: CapsetSource) => CapsetSource;
  /** Replace the sender's capset source. */
  senderCapset?: (base: CapsetSource) => CapsetSource;
}

/**
 * Builds a world in which SENDER may send TEMPLATE_ID to ME: real keys, capsets
 * signed by the dispatcher, a template with a signed manifest.
 */
export async function buildWorld(options: WorldOptions = {}): Promise<World> {
  const clock = new FakeClock(T0);
  const dispatcher = await newKey();
  const keys = {
    sender: await newKey(),
    other: await newKey(),
    retired: await newKey(),
    stranger: await newKey(),
  };
  const directory = new FixtureDirectory();
  directory.add(SENDER, keys.retired, { from: T0 - 2 * DAY, until: T0 - DAY });
  directory.add(SENDER, keys.sender, { from: T0 - DAY, until: T0 + 30 * DAY });
  directory.add(OTHER, keys.other, { from: T0 - DAY, until: T0 + 30 * DAY });

  const capsets = new FixtureCapsets(dispatcher, clock);
  const limits = {
    ...(options.quotaPerMinute === undefined ? {} : { quota_per_minute: options.quotaPerMinute }),
    ...(options.maxEnvelopeBytes === undefined
      ? {}
      : { max_envelope_bytes: options.maxEnvelopeBytes }),
  };
  const mine = capsetSource(ME, {
    receives: [{ from: SENDER, templates: [TEMPLATE_ID] }, {
      from: OTHER,
      templates: [TEMPLATE_ID],
    }],
    vault: [TEMPLATE_ID],
    limits,
  });
  await capsets.put(options.myCapset?.(mine) ?? mine);
  const theirs = capsetSource(SENDER, { sends: [{ to: ME, templates: [TEMPLATE_ID] }] });
  await capsets.put(options.senderCapset?.(theirs) ?? theirs);
  await capsets.put(capsetSource(OTHER, { sends: [{ to: ME, templates: [TEMPLATE_ID] }] }));

  const vault = new FixtureVault(dispatcher, clock);
  const templateSha256 = await vault.put(articleTemplate(options.policy));
  const replay = new CountingReplayStore();
  const quota = new CountingQuotaStore();
  const validator = createValidator({
    me: ME,
    directory,
    capsets,
    vault,
    replay,
    quota,
    clock,
    skewMs: 60_000,
  });

  const fields = (overrides: Record<string, unknown> = {}): JsonObject => {
    const base: Envelope = createEnvelope({
      sender: SENDER,
      receiver: ME,
      template: { id: TEMPLATE_ID, version: 1, sha256: templateSha256 },
      payload: { title: "Hello" },
      human_readable: "An article about greetings",
      clock,
    });
    return { ...base, ...overrides } as JsonObject;
  };
  return {
    clock,
    dispatcher,
    keys,
    directory,
    capsets,
    vault,
    replay,
    quota,
    validator,
    templateSha256,
    fields,
    sign: (f = fields(), key = keys.sender) => signEnvelope({ fields: f, signer: key }),
    counts: () => ({
      directory: directory.calls,
      capsets: [...capsets.calls],
      vault: vault.calls.length,
      quota: quota.calls,
      replay: replay.calls.length,
    }),
  };
}
