/**
 * Walks the trust root chain from the pinned first root (docs/design.md section 2, the
 * TUF rotation rule): v1's exact bytes must hash to the operator's pin and carry a
 * threshold of its own keys; each root N+1 must be version N+1 and carry a
 * threshold of root N's keys AND a threshold of its own (so neither a thief of the
 * old keys nor a holder of only new keys can rotate alone). Only the final root's
 * validity window is enforced: intermediate roots are history. The highest final
 * version seen is persisted; a chain ending lower is a `rollback`.
 *
 * Trusts: the pin, the clock and the version store. Everything in `roots` is
 * untrusted bytes.
 *
 * @module
 */
import { constantTimeEqual, fromHex, sha256 } from "../../primitives/crypto/bytes.ts";
import type { DsseEnvelope, PublicKeyEntry, TrustedKeySet } from "../../primitives/dsse/types.ts";
import { parseDsse } from "../../primitives/dsse/parse.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { expectPayloadType, parsePayload, verifySignatures } from "../../primitives/dsse/verify.ts";
import { SaoeError } from "../../primitives/errors.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { checkValidity } from "../../primitives/time/timestamp.ts";
import { decodeRootPayload, ROOT_MAX_BYTES, rootKeySet, type RootPayload } from "./root.ts";
import type { VersionStore } from "./version_store.ts";

/** Default bound on the number of rotations walked. */
export const DEFAULT_MAX_ROTATIONS = 32;

/** Version store key of the trust root. */
export const ROOT_VERSION_KEY = "root";

const PIN_RE = /^[0-9a-f]{64}$/;

/** Options for {@linkcode verifyRootChain}. */
export interface VerifyRootChainOptions {
  /** File bytes of root v1..vN, in order. */
  roots: readonly Uint8Array[];
  /** Lowercase hex SHA-256 of v1's exact file bytes (from operator config). */
  pin: string;
  /** Most rotations (roots after v1) walked; default {@linkcode DEFAULT_MAX_ROTATIONS}. */
  maxRotations?: number;
  clock: Clock;
  skewMs: number;
  versionStore: VersionStore;
}

/** The root in force after the chain verified. */
export interface VerifiedRoot {
  version: number;
  threshold: number;
  keys: readonly PublicKeyEntry[];
  issued_at: string;
  expires_at: string;
  /** The dispatcher key set: what dispatcher-signed statements are verified against. */
  trusted: TrustedKeySet;
  /** The decoded payload of the final root. */
  payload: RootPayload;
}

function parseRoot(bytes: Uint8Array, position: number): DsseEnvelope {
  const env = parseDsse(bytes, ROOT_MAX_BYTES);
  expectPayloadType(env, PAYLOAD_TYPES.root, `trust root at position ${position}`);
  return env;
}

function decodeRoot(env: DsseEnvelope, expectedVersion: number): RootPayload {
  const payload = decodeRootPayload(parsePayload(env, ROOT_MAX_BYTES), "$");
  if (payload.version !== expectedVersion) {
    // a gap (v1 -> v3) or a replayed older root inside the chain breaks the succession
    throw new SaoeError(
      "root_signature",
      `Cannot accept trust root chain: root ${expectedVersion} of the chain declares version ${payload.version}, expected ${expectedVersion}`,
    );
  }
  return payload;
}

async function checkPin(first: Uint8Array, pin: string): Promise<void> {
  if (!PIN_RE.test(pin)) {
    throw new SaoeError("bad_config", "Invalid root pin: expected 64 lowercase hex characters");
  }
  const digest = await sha256(new Uint8Array(first));
  if (!constantTimeEqual(digest, fromHex(pin, "root pin"))) {
    throw new SaoeError(
      "root_pin_mismatch",
      "Cannot accept trust root v1: its SHA-256 does not match the pinned hash",
    );
  }
}

/**
 * Verifies a root chain and returns the root in force.
 *
 * @example
 * ```ts
 * import { verifyRootChain } from "./chain.ts";
 * import { rootKeyOf, signRoot } from "./root.ts";
 * import { MemoryVersionStore } from "./version_store_memory.ts";
 * import { sha256Hex } from "../../primitives/crypto/bytes.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const key = await SigningKey.fromSeed(generateSeed());
 * const v1 = await signRoot({
 *   payload: {
 *     version: 1,
 *     issued_at: "2026-01-01T00:00:00Z",
 *     expires_at: "2027-01-01T00:00:00Z",
 *     threshold: 1,
 *     keys: [rootKeyOf(key)],
 *   },
 *   signers: [key],
 * });
 * const root = await verifyRootChain({
 *   roots: [v1],
 *   pin: await sha256Hex(v1),
 *   clock: { now: () => Date.parse("2026-06-01T00:00:00Z") },
 *   skewMs: 0,
 *   versionStore: new MemoryVersionStore(),
 * });
 * if (root.version !== 1) throw new Error();
 * ```
 */
export async function verifyRootChain(options: VerifyRootChainOptions): Promise<VerifiedRoot> {
  const maxRotations = options.maxRotations ?? DEFAULT_MAX_ROTATIONS;
  if (!Number.isSafeInteger(maxRotations) || maxRotations < 0) {
    throw new RangeError(`maxRotations must be a non-negative integer, got ${maxRotations}`);
  }
  const { roots } = options;
  // bound the work before any hashing or signature check: a long planted chain costs nothing
  if (roots.length - 1 > maxRotations) {
    throw new SaoeError(
      "chain_too_long",
      `Cannot accept trust root chain: ${
        roots.length - 1
      } rotations exceed the limit of ${maxRotations}`,
    );
  }
  const first = roots[0];
  if (first === undefined) {
    throw new SaoeError("root_pin_mismatch", "Cannot accept trust root chain: it has no root v1");
  }
  await checkPin(first, options.pin);

  // v1 is authenticated by the pin, so its payload may be read before its signatures
  const firstEnv = parseRoot(first, 1);
  let current = decodeRoot(firstEnv, 1);
  let currentSet = rootKeySet(current);
  await verifySignatures(firstEnv, {
    trusted: [currentSet],
    signatureCode: "root_signature",
    what: "trust root v1",
  });

  for (let i = 1; i < roots.length; i++) {
    const version = i + 1;
    const env = parseRoot(roots[i]!, version);
    const what = `trust root v${version}`;
    // the old keys vouch for the bytes before the new payload is read at all
    await verifySignatures(env, { trusted: [currentSet], signatureCode: "root_signature", what });
    const next = decodeRoot(env, version);
    const nextSet = rootKeySet(next);
    await verifySignatures(env, {
      trusted: [currentSet, nextSet],
      signatureCode: "root_signature",
      what,
    });
    current = next;
    currentSet = nextSet;
  }

  const highest = await options.versionStore.highest(ROOT_VERSION_KEY);
  if (current.version < highest) {
    throw new SaoeError(
      "rollback",
      `Cannot accept trust root v${current.version}: version ${highest} was already seen`,
    );
  }
  checkValidity(current, {
    clock: options.clock,
    skewMs: options.skewMs,
    what: `trust root v${current.version}`,
  });
  await options.versionStore.raise(ROOT_VERSION_KEY, current.version);
  return {
    version: current.version,
    threshold: current.threshold,
    keys: currentSet.keys,
    issued_at: current.issued_at,
    expires_at: current.expires_at,
    trusted: currentSet,
    payload: current,
  };
}
