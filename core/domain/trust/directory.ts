/**
 * Signing and verification of the agent key directory. The directory is trusted
 * only when a threshold of the current root's dispatcher keys signed it (else
 * `dispatcher_signature`), it is fresh (else `expired`), and its version is not
 * below the highest seen (else `rollback`, so an attacker cannot restore an old
 * directory that still lists a revoked key).
 *
 * @module
 */
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { keyIdOf } from "../../primitives/crypto/ed25519.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { verifyStatement } from "../../primitives/dsse/verify.ts";
import { SaoeError } from "../../primitives/errors.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { AgentDirectory } from "./agent_directory.ts";
import type { VerifiedRoot } from "./chain.ts";
import { decodeDirectoryPayload, type DirectoryPayload } from "./directory_payload.ts";
import { TRUST_FILE_MAX_BYTES } from "./files.ts";
import type { VersionStore } from "./version_store.ts";

/** Version store key of the agent key directory. */
export const DIRECTORY_VERSION_KEY = "directory";

/** One key to list for an agent. */
export interface DirectoryKeyInput {
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array<ArrayBuffer>;
  /** The agent's age X25519 recipient (`age1…`). */
  ageRecipient: string;
  validFromMs: number;
  validUntilMs: number;
  /** Key id label; default the hex SHA-256 of the public key. */
  keyid?: string;
}

/** Options for {@linkcode buildDirectory}. */
export interface BuildDirectoryOptions {
  version: number;
  issuedAtMs: number;
  expiresAtMs: number;
  /** Keys per agent id. */
  agents: Record<string, readonly DirectoryKeyInput[]>;
}

/**
 * Builds and checks a directory payload (for `init` and key rotation).
 *
 * @example
 * ```ts
 * import { buildDirectory } from "./directory.ts";
 * const payload = await buildDirectory({
 *   version: 1,
 *   issuedAtMs: Date.parse("2026-01-01T00:00:00Z"),
 *   expiresAtMs: Date.parse("2027-01-01T00:00:00Z"),
 *   agents: { planner: [] },
 * });
 * if (payload.agents[0]!.agent !== "planner") throw new Error();
 * ```
 */
export async function buildDirectory(options: BuildDirectoryOptions): Promise<DirectoryPayload> {
  const agents = [];
  for (const [agent, keys] of Object.entries(options.agents)) {
    const entries = [];
    for (const key of keys) {
      entries.push({
        keyid: key.keyid ?? await keyIdOf(key.publicKey),
        public_key: key.publicKey.toBase64(),
        age_recipient: key.ageRecipient,
        valid_from: formatTimestamp(key.validFromMs),
        valid_until: formatTimestamp(key.validUntilMs),
      });
    }
    agents.push({ agent, keys: entries });
  }
  return decodeDirectoryPayload({
    version: options.version,
    issued_at: formatTimestamp(options.issuedAtMs),
    expires_at: formatTimestamp(options.expiresAtMs),
    agents,
  }, "$");
}

/** Options for {@linkcode signDirectory}. */
export interface SignDirectoryOptions {
  payload: DirectoryPayload;
  /** A threshold of the current root's dispatcher keys. */
  signers: readonly SigningKey[];
}

/**
 * Signs a directory payload (checked first) and returns the file bytes.
 *
 * @example
 * ```ts
 * import { buildDirectory, signDirectory } from "./directory.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const dispatcher = await SigningKey.fromSeed(generateSeed());
 * const payload = await buildDirectory({
 *   version: 1,
 *   issuedAtMs: Date.parse("2026-01-01T00:00:00Z"),
 *   expiresAtMs: Date.parse("2027-01-01T00:00:00Z"),
 *   agents: {},
 * });
 * const bytes = await signDirectory({ payload, signers: [dispatcher] });
 * if (bytes.byteLength === 0) throw new Error();
 * ```
 */
export function signDirectory(options: SignDirectoryOptions): Promise<Uint8Array<ArrayBuffer>> {
  const payload = decodeDirectoryPayload(options.payload, "$");
  return signStatement({
    payloadType: PAYLOAD_TYPES.directory,
    payload: { ...payload },
    signers: options.signers,
  });
}

/** Options for {@linkcode verifyDirectory}. */
export interface VerifyDirectoryOptions {
  /** The root in force (from `verifyRootChain`): its dispatcher keys must have signed. */
  root: VerifiedRoot;
  clock: Clock;
  skewMs: number;
  versionStore: VersionStore;
}

/**
 * Verifies directory file bytes and returns the lookup the validator uses.
 *
 * @example
 * ```ts
 * import { buildDirectory, signDirectory, verifyDirectory } from "./directory.ts";
 * import { verifyRootChain } from "./chain.ts";
 * import { rootKeyOf, signRoot } from "./root.ts";
 * import { MemoryVersionStore } from "./version_store_memory.ts";
 * import { sha256Hex } from "../../primitives/crypto/bytes.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const dispatcher = await SigningKey.fromSeed(generateSeed());
 * const clock = { now: () => Date.parse("2026-06-01T00:00:00Z") };
 * const versionStore = new MemoryVersionStore();
 * const v1 = await signRoot({
 *   payload: {
 *     version: 1,
 *     issued_at: "2026-01-01T00:00:00Z",
 *     expires_at: "2027-01-01T00:00:00Z",
 *     threshold: 1,
 *     keys: [rootKeyOf(dispatcher)],
 *   },
 *   signers: [dispatcher],
 * });
 * const root = await verifyRootChain({
 *   roots: [v1], pin: await sha256Hex(v1), clock, skewMs: 0, versionStore,
 * });
 * const payload = await buildDirectory({
 *   version: 1,
 *   issuedAtMs: Date.parse("2026-01-01T00:00:00Z"),
 *   expiresAtMs: Date.parse("2027-01-01T00:00:00Z"),
 *   agents: { planner: [] },
 * });
 * const bytes = await signDirectory({ payload, signers: [dispatcher] });
 * const dir = await verifyDirectory(bytes, { root, clock, skewMs: 0, versionStore });
 * if (dir.agents()[0] !== "planner") throw new Error();
 * ```
 */
export async function verifyDirectory(
  bytes: Uint8Array,
  options: VerifyDirectoryOptions,
): Promise<AgentDirectory> {
  const { payload } = await verifyStatement(bytes, {
    payloadType: PAYLOAD_TYPES.directory,
    trusted: [options.root.trusted],
    signatureCode: "dispatcher_signature",
    what: "agent key directory",
    decode: decodeDirectoryPayload,
    clock: options.clock,
    skewMs: options.skewMs,
    maxBytes: TRUST_FILE_MAX_BYTES,
  });
  const highest = await options.versionStore.highest(DIRECTORY_VERSION_KEY);
  if (payload.version < highest) {
    throw new SaoeError(
      "rollback",
      `Cannot accept agent key directory version ${payload.version}: version ${highest} was already seen`,
    );
  }
  await options.versionStore.raise(DIRECTORY_VERSION_KEY, payload.version);
  return new AgentDirectory(payload);
}
