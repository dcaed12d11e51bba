/**
 * The envelope validator: the fourteen steps of docs/design.md section 3, in order. Every
 * refusal is a {@linkcode ValidationError} carrying its reason code, the step and
 * every id parsed so far; no step runs before the ones above it passed.
 *
 * 1. size: the agent's own capset (`capsets.inForce(me)`) gives
 *    `limits.max_envelope_bytes`; a file is read at most that many bytes plus one,
 *    so an oversized file is refused before it is read whole → `size_exceeded`
 * 2. the DSSE wrapper parses strictly and names the envelope payload type →
 *    `parse_error` / `duplicate_key`
 * 3. the payload is parsed strictly and ONLY its `sender` is read, to choose which
 *    keys to try (no trust yet) → `bad_identifier`; the directory knows the sender
 *    and it has a key valid now → `unknown_sender` / `revoked_key`
 * 4. a signature by one of the sender's current keys verifies; one by a retired
 *    key is `revoked_key`, anything else `bad_signature`
 * 5. the verified payload decodes strictly and is fresh → `parse_error` /
 *    `unsupported_version` / `bad_identifier` / `expired`
 * 6. the receiver is this agent → `receiver_mismatch` (before any vault or capset
 *    access beyond step 1)
 * 7. the sender's capset sends this template to me and mine receives it from the
 *    sender → `edge_not_allowed`
 * 8. the template resolves within my capset's vault scope → `vault_resolution` /
 *    `vault_access`
 * 9. its manifest is dispatcher-signed and its plaintext hashes to the envelope's
 *    `template.sha256` (constant-time) → `dispatcher_signature` /
 *    `template_hash_mismatch`
 * 10. my capset in force right now is dispatcher-signed and unexpired →
 *     `capset_signature` / `expired`
 * 11. the payload satisfies the template's JSON Schema → `schema`
 * 12. template policy: sender, receiver, payload size → `sender_not_allowed` /
 *     `receiver_not_allowed` / `payload_too_large`
 * 13. the sender's quota over a true 60 s sliding window → `quota_exceeded`
 * 14. the envelope id is claimed, atomically and permanently → `replay` (last, so a
 *     refused envelope never burns its id)
 *
 * Payload size (step 12) is measured as the UTF-8 length of `JSON.stringify` of
 * the decoded `payload` object: its compact serialisation, the form
 * `signEnvelope` writes, so whitespace inside the signed bytes neither helps nor
 * hurts a sender.
 *
 * It trusts the ports it is given ({@linkcode SenderKeyLookup},
 * {@linkcode CapsetProvider}, {@linkcode TemplateResolver}, {@linkcode ReplayStore},
 * {@linkcode QuotaStore}): the directory, the capset provider and the vault
 * verify their own signed statements.
 *
 * @module
 */
import { type RefusalIds, SaoeError } from "../../primitives/errors.ts";
import { constantTimeEqual, fromHex, utf8 } from "../../primitives/crypto/bytes.ts";
import type { Capset } from "../capset/types.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { parseDsse } from "../../primitives/dsse/parse.ts";
import { verifySignatures } from "../../primitives/dsse/verify.ts";
import type { DsseEnvelope, PublicKeyEntry } from "../../primitives/dsse/types.ts";
import { AGENT_ID_RE } from "../../primitives/ids/patterns.ts";
import { type JsonObject, parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { type Clock, DEFAULT_SKEW_MS } from "../../primitives/time/clock.ts";
import { checkValidity } from "../../primitives/time/timestamp.ts";
import type { Template } from "../vault/template_types.ts";
import { decodeEnvelope, type Envelope, envelopeIds, peekEnvelopeIds } from "./envelope.ts";
import type { CapsetProvider } from "../capset/provider.ts";
import type { SenderKeyLookup } from "../trust/sender_keys.ts";
import type { ResolvedTemplate, TemplateResolver } from "../vault/resolver.ts";
import type { QuotaStore } from "./quota_store.ts";
import type { ReplayStore } from "./replay_store.ts";
import { SchemaCache } from "./schema_cache.ts";
import { ValidationError } from "./validation_error.ts";

/** Options for {@linkcode createValidator}. */
export interface ValidatorOptions {
  /** The agent id of the receiving agent. */
  me: string;
  /** The verified agent key directory. */
  directory: SenderKeyLookup;
  /** Capability sets in force. */
  capsets: CapsetProvider;
  /** The vault, scoped by the capset's `vault` entries. */
  vault: TemplateResolver;
  /** Where accepted envelope ids are claimed (step 14). */
  replay: ReplayStore;
  /** Per-sender sliding-window quota (step 13). */
  quota: QuotaStore;
  /** Source of the time every check of one envelope uses. */
  clock: Clock;
  /** Allowed clock skew for `issued_at`/`expires_at`; default 2 minutes. */
  skewMs?: number;
}

/** An envelope that passed all fourteen steps. */
export interface ValidatedEnvelope {
  /** The decoded envelope payload. */
  envelope: Envelope;
  /** The verified template it follows. */
  template: Template;
  /** The exact bytes of the `.satl` file. */
  bytes: Uint8Array;
}

/** Validates SATL envelopes for one receiving agent. */
export interface Validator {
  /** Runs the fourteen steps over the bytes of one `.satl` file. */
  validate(bytes: Uint8Array): Promise<ValidatedEnvelope>;
  /** Reads at most the size cap plus one byte of `path`, then validates it. */
  validateFile(path: string): Promise<ValidatedEnvelope>;
}

// which step reports each code the vault resolver may throw
const VAULT_STEP: Readonly<Record<string, number>> = {
  vault_resolution: 8,
  vault_access: 8,
  dispatcher_signature: 9,
  template_hash_mismatch: 9,
};

function label(ids: RefusalIds): string {
  if (ids.envelope_id !== undefined) return `envelope ${ids.envelope_id}`;
  if (ids.sender !== undefined) return `envelope from "${ids.sender}"`;
  return "envelope";
}

function lowerFirst(text: string): string {
  return text.length > 0 ? text[0]!.toLowerCase() + text.slice(1) : text;
}

/** A refusal at `step`. */
function refuse(
  step: number,
  code: SaoeError["code"],
  detail: string,
  ids: RefusalIds,
  cause?: unknown,
): ValidationError {
  return new ValidationError({
    step,
    code,
    message: `Cannot accept ${label(ids)}: ${detail}`,
    ids,
    cause,
  });
}

/** Turns a refusal thrown by a helper or a port into a refusal at `step`; rethrows bugs. */
function wrap(step: number, err: unknown, ids: RefusalIds): ValidationError {
  if (err instanceof ValidationError) return err;
  if (err instanceof SaoeError) return refuse(step, err.code, lowerFirst(err.message), ids, err);
  if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotCapable) {
    return refuse(step, "io_error", lowerFirst(err.message), ids, err);
  }
  throw err;
}

/**
 * Creates a validator for agent `options.me`.
 *
 * @example
 * ```ts
 * import { createValidator } from "./validator.ts";
 * import { MemoryReplayStore } from "./replay_store.ts";
 * import { MemoryQuotaStore } from "./quota_store.ts";
 * const validator = createValidator({
 *   me: "planner",
 *   directory: { senderKeys: () => ({ status: "unknown" }) },
 *   capsets: { inForce: () => Promise.reject(new Error("not used")) },
 *   vault: { resolve: () => Promise.reject(new Error("not used")) },
 *   replay: new MemoryReplayStore(),
 *   quota: new MemoryQuotaStore(),
 *   clock: { now: () => Date.now() },
 * });
 * if (typeof validator.validate !== "function") throw new Error("unexpected");
 * ```
 */
export function createValidator(options: ValidatorOptions): Validator {
  return new EnvelopeValidator(options);
}

class EnvelopeValidator implements Validator {
  #o: ValidatorOptions;
  #skewMs: number;
  #schemas = new SchemaCache();

  constructor(options: ValidatorOptions) {
    if (!AGENT_ID_RE.test(options.me)) {
      throw new TypeError(`Invalid receiving agent id ${JSON.stringify(options.me)}`);
    }
    this.#o = options;
    this.#skewMs = options.skewMs ?? DEFAULT_SKEW_MS;
  }

  async validate(bytes: Uint8Array): Promise<ValidatedEnvelope> {
    const mine = await this.#ownCapset();
    return await this.#run(bytes, mine);
  }

  async validateFile(path: string): Promise<ValidatedEnvelope> {
    const mine = await this.#ownCapset();
    const bytes = await readCapped(path, mine.limits.max_envelope_bytes);
    return await this.#run(bytes, mine);
  }

  /** Step 1 needs the size cap: the own capset (the provider caches its verification). */
  async #ownCapset(): Promise<Capset> {
    try {
      return await this.#o.capsets.inForce(this.#o.me);
    } catch (err: unknown) {
      throw wrap(1, err, {});
    }
  }

  async #run(bytes: Uint8Array, mine: Capset): Promise<ValidatedEnvelope> {
    const o = this.#o;
    const now = o.clock.now();
    const max = mine.limits.max_envelope_bytes;

    // 1. size, before anything is decoded
    if (bytes.byteLength > max) {
      throw refuse(1, "size_exceeded", `${bytes.byteLength} bytes exceeds the limit of ${max}`, {});
    }

    // 2. DSSE wrapper
    let env: DsseEnvelope;
    try {
      env = parseDsse(bytes, max);
    } catch (err: unknown) {
      throw wrap(2, err, {});
    }
    if (env.payloadType !== PAYLOAD_TYPES.envelope) {
      throw refuse(
        2,
        "parse_error",
        `payload type ${
          JSON.stringify(env.payloadType.slice(0, 80))
        } is not ${PAYLOAD_TYPES.envelope}`,
        {},
      );
    }

    // 3. peek at `sender` only, to choose the keys to try; nothing else is read unverified
    let json: JsonObject;
    try {
      json = parseStrictJson(env.payload, { maxBytes: max });
    } catch (err: unknown) {
      throw wrap(3, err, {});
    }
    const claimed = Object.hasOwn(json, "sender") ? json.sender : undefined;
    if (typeof claimed !== "string" || !AGENT_ID_RE.test(claimed)) {
      throw refuse(3, "bad_identifier", "sender is not an agent id", {});
    }
    const sender = claimed;
    let ids: RefusalIds = { sender };
    let current: readonly PublicKeyEntry[];
    let retired: readonly PublicKeyEntry[];
    try {
      const keys = o.directory.senderKeys(sender, now);
      if (keys.status === "unknown") {
        throw refuse(3, "unknown_sender", `sender "${sender}" is not in the key directory`, ids);
      }
      retired = keys.retired;
      current = keys.status === "ok" ? keys.current : [];
    } catch (err: unknown) {
      throw wrap(3, err, ids);
    }
    if (current.length === 0) {
      throw refuse(3, "revoked_key", `sender "${sender}" has no key valid now`, ids);
    }

    // 4. signature by a current key of the claimed sender (keyid is only a hint)
    await this.#verify(env, { sender, current, retired, ids });

    // 5. verified payload: strict decode, then freshness
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(json, "$");
    } catch (err: unknown) {
      throw wrap(5, err, { ...peekEnvelopeIds(json), sender });
    }
    ids = envelopeIds(envelope);
    try {
      checkValidity(envelope, {
        clock: { now: () => now },
        skewMs: this.#skewMs,
        what: "envelope",
      });
    } catch (err: unknown) {
      throw wrap(5, err, ids);
    }

    // 6. addressed to me, before any vault access or capset lookup of the sender
    if (envelope.receiver !== o.me) {
      throw refuse(
        6,
        "receiver_mismatch",
        `it is addressed to "${envelope.receiver}", not "${o.me}"`,
        ids,
      );
    }

    // 7. the edge, in both capability sets: the receiver's own capset first, so a
    // sender that is no peer at all (hop skipping) is refused without looking it up
    const templateId = envelope.template.id;
    const receives = mine.agent === o.me &&
      mine.receives.some((r) => r.from === sender && r.templates.includes(templateId));
    if (!receives) {
      throw refuse(
        7,
        "edge_not_allowed",
        `sender "${sender}" is not allowed to send "${templateId}" to "${o.me}" (the receiver's capability set does not allow it)`,
        ids,
      );
    }
    let senderCapset: Capset;
    try {
      senderCapset = await o.capsets.inForce(sender);
    } catch (err: unknown) {
      throw wrap(7, err, ids);
    }
    const sends = senderCapset.agent === sender &&
      senderCapset.sends.some((s) => s.to === o.me && s.templates.includes(templateId));
    if (!sends) {
      throw refuse(
        7,
        "edge_not_allowed",
        `sender "${sender}" is not allowed to send "${templateId}" to "${o.me}" (the sender's capability set does not allow it)`,
        ids,
      );
    }

    // 8 + 9. template in my vault scope, manifest signed, plaintext hash as claimed
    let resolved: ResolvedTemplate;
    try {
      resolved = await o.vault.resolve(templateId, envelope.template.version, mine.vault);
    } catch (err: unknown) {
      throw wrap(err instanceof SaoeError ? VAULT_STEP[err.code] ?? 8 : 8, err, ids);
    }
    if (
      resolved.template.id !== templateId ||
      resolved.template.version !== envelope.template.version
    ) {
      throw refuse(8, "vault_resolution", `the vault returned another template`, ids);
    }
    if (!sameDigest(resolved.sha256, envelope.template.sha256)) {
      throw refuse(
        9,
        "template_hash_mismatch",
        `template "${templateId}" version ${envelope.template.version} does not hash to ${envelope.template.sha256}`,
        ids,
      );
    }

    // 10. my capability set in force right now
    let mineNow: Capset;
    try {
      mineNow = await o.capsets.inForce(o.me);
    } catch (err: unknown) {
      throw wrap(10, err, ids);
    }
    if (mineNow.agent !== o.me) {
      throw refuse(10, "capset_signature", `the capability set in force is not "${o.me}"'s`, ids);
    }

    // 11. payload against the template's schema
    const template = resolved.template;
    try {
      this.#schemas.check({
        schema: template.schema,
        key: resolved.sha256,
        payload: envelope.payload,
        what: label(ids),
      });
    } catch (err: unknown) {
      throw wrap(11, err, ids);
    }

    // 12. template policy
    if (!template.policy.allowed_senders.includes(sender)) {
      throw refuse(
        12,
        "sender_not_allowed",
        `template "${templateId}" does not allow sender "${sender}"`,
        ids,
      );
    }
    if (!template.policy.allowed_receivers.includes(o.me)) {
      throw refuse(
        12,
        "receiver_not_allowed",
        `template "${templateId}" does not allow receiver "${o.me}"`,
        ids,
      );
    }
    const payloadBytes = utf8(JSON.stringify(envelope.payload)).byteLength;
    if (payloadBytes > template.policy.max_payload_bytes) {
      throw refuse(
        12,
        "payload_too_large",
        `payload of ${payloadBytes} bytes exceeds the template limit of ${template.policy.max_payload_bytes}`,
        ids,
      );
    }

    // 13. quota
    if (!o.quota.take(sender, now, mineNow.limits.quota_per_minute)) {
      throw refuse(
        13,
        "quota_exceeded",
        `sender "${sender}" exceeded ${mineNow.limits.quota_per_minute} envelopes per minute`,
        ids,
      );
    }

    // 14. replay, last: only an envelope that passed everything claims its id
    let first: boolean;
    try {
      first = await o.replay.claim(envelope.envelope_id);
    } catch (err: unknown) {
      throw wrap(14, err, ids);
    }
    if (!first) throw refuse(14, "replay", "its id was already processed", ids);

    return { envelope, template, bytes };
  }

  async #verify(
    env: DsseEnvelope,
    keys: {
      sender: string;
      current: readonly PublicKeyEntry[];
      retired: readonly PublicKeyEntry[];
      ids: RefusalIds;
    },
  ): Promise<void> {
    const what = `envelope from "${keys.sender}"`;
    try {
      await verifySignatures(env, {
        trusted: [{
          name: `the current keys of "${keys.sender}"`,
          keys: keys.current,
          threshold: 1,
        }],
        signatureCode: "bad_signature",
        what,
      });
      return;
    } catch (err: unknown) {
      if (
        !(err instanceof SaoeError) || err.code !== "bad_signature" || keys.retired.length === 0
      ) {
        throw wrap(4, err, keys.ids);
      }
    }
    // a signature by a key the directory retired is a revoked key, not a forgery
    let byRetired = false;
    try {
      await verifySignatures(env, {
        trusted: [{
          name: `the retired keys of "${keys.sender}"`,
          keys: keys.retired,
          threshold: 1,
        }],
        signatureCode: "bad_signature",
        what,
      });
      byRetired = true;
    } catch (err: unknown) {
      if (!(err instanceof SaoeError)) throw err;
    }
    throw byRetired
      ? refuse(4, "revoked_key", `it is signed by a retired key of "${keys.sender}"`, keys.ids)
      : refuse(
        4,
        "bad_signature",
        `no signature by a current key of "${keys.sender}" verifies`,
        keys.ids,
      );
  }
}

/** Constant-time comparison of two lowercase hex digests; malformed hex never matches. */
function sameDigest(a: string, b: string): boolean {
  try {
    return constantTimeEqual(fromHex(a), fromHex(b));
  } catch {
    return false;
  }
}

/**
 * Reads at most `max + 1` bytes of a regular file; more is `size_exceeded` without
 * reading the rest. A symlink or hard link is refused (`unsafe_path`): Deno checks
 * the path as written, so a planted link would read a file outside the inbox.
 */
async function readCapped(path: string, max: number): Promise<Uint8Array<ArrayBuffer>> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err: unknown) {
    throw wrap(1, err, {});
  }
  if (!info.isFile || info.isSymlink || (info.nlink !== null && info.nlink > 1)) {
    throw refuse(1, "unsafe_path", "the inbox entry is not a regular file with one link", {});
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err: unknown) {
    throw wrap(1, err, {});
  }
  try {
    const opened = await file.stat();
    // swapped between lstat and open: refuse rather than read what the link points to
    if (opened.ino !== info.ino || opened.dev !== info.dev) {
      throw refuse(1, "unsafe_path", "the inbox entry changed while it was opened", {});
    }
    // sized by the file, not the limit: a 4 MiB zeroed buffer per envelope was
    // most of an agent's CPU and garbage under load; one byte more than
    // expected shows a file that is over the limit or grew after it was opened
    const buffer = new Uint8Array(Math.min(max, opened.size) + 1);
    let length = 0;
    while (length < buffer.byteLength) {
      const n = await file.read(buffer.subarray(length));
      if (n === null) break;
      length += n;
    }
    if (length > max) {
      throw refuse(1, "size_exceeded", `the file is larger than the limit of ${max} bytes`, {});
    }
    if (length !== opened.size) {
      throw refuse(1, "unsafe_path", "the inbox entry changed size while it was read", {});
    }
    return buffer.slice(0, length);
  } catch (err: unknown) {
    throw wrap(1, err, {});
  } finally {
    file.close();
  }
}
