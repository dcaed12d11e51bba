/**
 * Verification of one signed capability set: the dispatcher's signature over the
 * exact bytes (code `capset_signature`), then the strict payload, freshness
 * (`expired`), the agent it claims (`forbidden_grant` when it is not the agent the
 * caller asked for: a valid capset of `planner` must never be used as the
 * capset of `deployment`) and its version against the highest seen (`rollback`).
 *
 * It trusts only the dispatcher key set it is given (from the verified trust root).
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { verifyStatement } from "../../primitives/dsse/verify.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { VersionStore } from "../trust/version_store.ts";
import { type Capset, decodeCapset } from "./types.ts";

/** Largest signed capability set document accepted, in bytes (checked before parsing). */
export const MAX_CAPSET_BYTES = 1024 * 1024;

/** Options for {@linkcode verifyCapset}. */
export interface VerifyCapsetOptions {
  /** The dispatcher keys and threshold of the verified trust root. */
  dispatcher: TrustedKeySet;
  clock: Clock;
  /** Allowed clock skew in milliseconds. */
  skewMs: number;
  /** When given, the version must not be lower than the highest seen (`capset:<agent>`). */
  versionStore?: VersionStore;
  /** When given, the capset must be this agent's. */
  expectedAgent?: string;
}

/** The version store key of an agent's capability set. */
export function capsetVersionKey(agent: string): string {
  return `capset:${agent}`;
}

/**
 * Verifies a signed capability set and returns its payload. On success the
 * version store (if any) is raised to its version.
 *
 * @example
 * ```ts
 * import { verifyCapset } from "./verify.ts";
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
 * const capset = await verifyCapset(bytes, {
 *   dispatcher: { name: "dispatcher", keys: [dispatcher], threshold: 1 },
 *   clock: { now: () => now },
 *   skewMs: 0,
 *   expectedAgent: "planner",
 * });
 * if (capset.agent !== "planner") throw new Error("unexpected");
 * ```
 */
export async function verifyCapset(
  bytes: Uint8Array,
  options: VerifyCapsetOptions,
): Promise<Capset> {
  const ids = options.expectedAgent === undefined ? {} : { agent: options.expectedAgent };
  const what = options.expectedAgent === undefined
    ? "capability set"
    : `capability set for ${JSON.stringify(options.expectedAgent)}`;
  let capset: Capset;
  try {
    const verified = await verifyStatement(bytes, {
      payloadType: PAYLOAD_TYPES.capset,
      trusted: [options.dispatcher],
      signatureCode: "capset_signature",
      what,
      decode: decodeCapset,
      clock: options.clock,
      skewMs: options.skewMs,
      maxBytes: MAX_CAPSET_BYTES,
    });
    capset = verified.payload;
  } catch (err: unknown) {
    if (err instanceof SaoeError) throw err.withIds(ids);
    throw err;
  }
  if (options.expectedAgent !== undefined && capset.agent !== options.expectedAgent) {
    throw new SaoeError(
      "forbidden_grant",
      `Cannot accept ${what}: it is signed for agent ${JSON.stringify(capset.agent)}`,
      ids,
    );
  }
  if (options.versionStore !== undefined) {
    const key = capsetVersionKey(capset.agent);
    const highest = await options.versionStore.highest(key);
    if (capset.version < highest) {
      throw new SaoeError(
        "rollback",
        `Cannot accept capability set for ${
          JSON.stringify(capset.agent)
        }: version ${capset.version} is lower than version ${highest} already seen`,
        { agent: capset.agent },
      );
    }
    await options.versionStore.raise(key, capset.version);
  }
  return capset;
}
