/**
 * The capability sets in force, as the envelope validator asks for them
 * ({@linkcode CapsetProvider}, step 10). Each call reads the agent's current
 * signed bytes, re-verifies the signature when those bytes differ from the ones
 * verified last (a swapped or edited file is never served from cache), and
 * re-checks expiry every time (a capset that expires while the agent runs stops
 * being in force at that instant). As the validator port promises, every refusal
 * is `expired` or `capset_signature`; a more precise code (`parse_error`,
 * `forbidden_grant` for a capset filed under another agent, `rollback`) is kept
 * in the message and as the error's `cause`.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { constantTimeEqual } from "../../primitives/crypto/bytes.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { checkValidity } from "../../primitives/time/timestamp.ts";
import type { VersionStore } from "../trust/version_store.ts";
import type { CapsetProvider } from "./provider.ts";
import type { Capset } from "./types.ts";
import { verifyCapset } from "./verify.ts";

/** Options for {@linkcode CapsetStore}. */
export interface CapsetStoreOptions {
  /**
   * Agent id → signed capset bytes. The store keeps this map and reads it on every
   * call (it never writes it): the owner swaps an entry to load a new capset.
   */
  capsets: ReadonlyMap<string, Uint8Array>;
  /** The dispatcher keys and threshold of the verified trust root. */
  dispatcher: TrustedKeySet;
  clock: Clock;
  /** Allowed clock skew in milliseconds. */
  skewMs: number;
  /** When given, each newly verified capset must not roll back its version. */
  versionStore?: VersionStore;
}

interface Verified {
  /** A private copy of the exact bytes that verified. */
  bytes: Uint8Array;
  capset: Capset;
}

// the validator port promises `capset_signature` or `expired`: a corrupt, misnamed
// or rolled-back capset must not surface as the envelope's own parse_error; the
// precise code stays in the message and the cause
function asProviderError(err: unknown, agent: string): unknown {
  if (!(err instanceof SaoeError) || err.code === "expired" || err.code === "capset_signature") {
    return err instanceof SaoeError ? err.withIds({ agent }) : err;
  }
  return new SaoeError("capset_signature", `${err.message} (${err.code})`, {
    ...err.ids,
    agent,
  }, { cause: err });
}

/**
 * Verified capability sets with a signature cache keyed by exact bytes.
 *
 * @example
 * ```ts
 * import { CapsetStore } from "./store.ts";
 * import { signCapset } from "./sign.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const dispatcher = await SigningKey.fromSeed(generateSeed());
 * const now = Date.now();
 * const bytes = await signCapset({
 *   source: {
 *     agent: "planner", version: 1, receives: [], sends: [], tools: [], vault: [],
 *     fs: { read: [], write: [] }, net: [],
 *     limits: { max_envelope_bytes: 65536, quota_per_minute: 60, max_inbox_depth: 100, max_quarantine: 100 },
 *   },
 *   signers: [dispatcher],
 *   issuedAt: now,
 *   validForMs: 60_000,
 * });
 * const store = new CapsetStore({
 *   capsets: new Map([["planner", bytes]]),
 *   dispatcher: { name: "dispatcher", keys: [dispatcher], threshold: 1 },
 *   clock: { now: () => now },
 *   skewMs: 0,
 * });
 * if ((await store.inForce("planner")).version !== 1) throw new Error("unexpected");
 * ```
 */
export class CapsetStore implements CapsetProvider {
  readonly #options: CapsetStoreOptions;
  readonly #verified = new Map<string, Verified>();

  /** Creates a store over `options.capsets`; nothing is verified until asked. */
  constructor(options: CapsetStoreOptions) {
    this.#options = { ...options };
  }

  /** The verified, unexpired capability set of `agent`; throws if absent or invalid. */
  async inForce(agent: string): Promise<Capset> {
    const options = this.#options;
    const bytes = options.capsets.get(agent);
    if (bytes === undefined) {
      this.#verified.delete(agent);
      throw new SaoeError(
        "capset_signature",
        `Cannot find a capability set for agent ${JSON.stringify(agent.slice(0, 80))}`,
        { agent },
      );
    }
    const cached = this.#verified.get(agent);
    if (cached !== undefined && constantTimeEqual(cached.bytes, bytes)) {
      // the signature over these exact bytes verified before; freshness is a new question
      try {
        checkValidity(cached.capset, {
          clock: options.clock,
          skewMs: options.skewMs,
          what: `capability set for ${JSON.stringify(agent)}`,
        });
      } catch (err: unknown) {
        if (err instanceof SaoeError) throw err.withIds({ agent });
        throw err;
      }
      return structuredClone(cached.capset);
    }
    this.#verified.delete(agent);
    const copy = bytes.slice();
    const verifyOptions = {
      dispatcher: options.dispatcher,
      clock: options.clock,
      skewMs: options.skewMs,
      expectedAgent: agent,
      ...(options.versionStore === undefined ? {} : { versionStore: options.versionStore }),
    };
    let capset: Capset;
    try {
      capset = await verifyCapset(copy, verifyOptions);
    } catch (err: unknown) {
      throw asProviderError(err, agent);
    }
    this.#verified.set(agent, { bytes: copy, capset });
    return structuredClone(capset);
  }
}
