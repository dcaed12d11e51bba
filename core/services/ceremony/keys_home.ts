/**
 * A home opened for a key ceremony (`saoe keys rotate|revoke|renew|status`): its
 * config, key store, and its trust state verified exactly as the supervisor
 * verifies it, from the pinned root v1 through the chain to the agent key
 * directory.
 *
 * Ceremonies must also work on an expired home (renewing is how an operator
 * repairs one), so verification can tolerate expiry: every signature is still
 * checked against the keys the chain vouches for, only the validity window is
 * judged at the statement's own `issued_at` instead of now. Nothing is trusted
 * that did not verify.
 *
 * Rollback protection is read from the supervisor's version store and never
 * raised here: only the supervisor decides what it has accepted.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { toHex } from "../../primitives/crypto/bytes.ts";
import { parseDsse } from "../../primitives/dsse/parse.ts";
import { parsePayload } from "../../primitives/dsse/verify.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { parseTimestamp } from "../../primitives/time/timestamp.ts";
import { type HomeConfig, readHomeConfig } from "../../domain/home/config.ts";
import { type HomeLayout, homeLayout, supervisorVersionsPath } from "../../domain/home/layout.ts";
import { type KeyStore, openKeyStore } from "../../domain/keys/keystore.ts";
import {
  loadRootChain,
  readDirectoryFile,
  TRUST_FILE_MAX_BYTES,
} from "../../domain/trust/files.ts";
import { type VerifiedRoot, verifyRootChain } from "../../domain/trust/chain.ts";
import { verifyDirectory } from "../../domain/trust/directory.ts";
import type { AgentDirectory } from "../../domain/trust/agent_directory.ts";
import {
  decodeDirectoryPayload,
  type DirectoryPayload,
} from "../../domain/trust/directory_payload.ts";
import { ROOT_MAX_BYTES } from "../../domain/trust/root.ts";
import type { VersionStore } from "../../domain/trust/version_store.ts";
import { ReadOnlyVersionStore } from "../../domain/trust/version_store_readonly.ts";

/** Options for {@linkcode openCeremonyHome}. */
export interface OpenCeremonyHomeOptions {
  /** The home folder. */
  home: string;
  clock: Clock;
  /** Judge expired statements at their own `issued_at` (signatures are still verified). */
  allowExpired?: boolean;
  /**
   * Dispatcher seeds brought to the ceremony besides the key store's (from an
   * offline export, `--dispatcher-key FILE`); zeroed once imported.
   */
  dispatcherSeeds?: readonly Uint8Array<ArrayBuffer>[];
}

/** A home whose trust state verified, ready for a ceremony. */
export interface CeremonyHome {
  home: HomeLayout;
  config: HomeConfig;
  keys: KeyStore;
  clock: Clock;
  /** The root in force (the last of the chain). */
  root: VerifiedRoot;
  /** Exact bytes of every root, v1 first. */
  chain: Uint8Array[];
  directory: AgentDirectory;
  /** The decoded payload of the verified directory (to build the next version). */
  directoryPayload: DirectoryPayload;
  /** The read-only version store of the supervisor. */
  versionStore: VersionStore;
  /** Dispatcher keys brought to the ceremony (see `OpenCeremonyHomeOptions`). */
  broughtSigners: SigningKey[];
}

/**
 * The `issued_at` of a statement's payload, read WITHOUT verifying it: only ever
 * used to pick the instant at which its signatures are then verified.
 */
export function unverifiedIssuedAt(bytes: Uint8Array, maxBytes: number): number | undefined {
  try {
    const payload = parsePayload(parseDsse(bytes, maxBytes), maxBytes);
    const issued = payload.issued_at;
    return typeof issued === "string" ? parseTimestamp(issued) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `verify` with `clock`; when it refuses with `expired` and `allowExpired` is
 * set, runs it again with the clock at the statement's own `issued_at`.
 */
export async function verifyTolerant<T>(
  options: { clock: Clock; allowExpired: boolean; bytes: Uint8Array; maxBytes: number },
  verify: (clock: Clock) => Promise<T>,
): Promise<T> {
  try {
    return await verify(options.clock);
  } catch (err: unknown) {
    if (!options.allowExpired || !(err instanceof SaoeError) || err.code !== "expired") throw err;
    const at = unverifiedIssuedAt(options.bytes, options.maxBytes);
    if (at === undefined) throw err;
    return await verify({ now: () => at });
  }
}

/**
 * Opens and verifies a home for a ceremony.
 *
 * @example
 * ```ts ignore
 * const ch = await openCeremonyHome({ home: ".saoe", clock: systemClock });
 * console.log(ch.root.version, ch.directory.agents());
 * ```
 */
export async function openCeremonyHome(options: OpenCeremonyHomeOptions): Promise<CeremonyHome> {
  const home = homeLayout(options.home);
  const present = await Deno.lstat(home.config).then(() => true, () => false);
  if (!present) {
    throw new SaoeError(
      "bad_config",
      `No SAOE home at ${home.root}: config.json is missing (create one with "saoe init --home ${home.root}", or pass the right --home)`,
    );
  }
  const config = await readHomeConfig(home.config);
  const keys = await openKeyStore(home.keys);
  const versionStore = new ReadOnlyVersionStore(supervisorVersionsPath(home));
  const allowExpired = options.allowExpired === true;
  const chain = await loadRootChain(home.trust);
  const root = await verifyTolerant(
    { clock: options.clock, allowExpired, bytes: chain.at(-1)!, maxBytes: ROOT_MAX_BYTES },
    (clock) =>
      verifyRootChain({
        roots: chain,
        pin: config.root_pin,
        clock,
        skewMs: config.skew_ms,
        versionStore,
      }),
  );
  const directoryBytes = await readDirectoryFile(home.trust);
  const directory = await verifyTolerant(
    { clock: options.clock, allowExpired, bytes: directoryBytes, maxBytes: TRUST_FILE_MAX_BYTES },
    (clock) =>
      verifyDirectory(directoryBytes, { root, clock, skewMs: config.skew_ms, versionStore }),
  );
  // verified above: reading its payload now trusts only what the signatures vouch for
  const directoryPayload = decodeDirectoryPayload(
    parsePayload(parseDsse(directoryBytes, TRUST_FILE_MAX_BYTES), TRUST_FILE_MAX_BYTES),
    "$",
  );
  const broughtSigners: SigningKey[] = [];
  for (const seed of options.dispatcherSeeds ?? []) {
    broughtSigners.push(await SigningKey.fromSeed(seed));
    seed.fill(0);
  }
  return {
    home,
    config,
    keys,
    broughtSigners,
    clock: options.clock,
    root,
    chain,
    directory,
    directoryPayload,
    versionStore,
  };
}

/**
 * The dispatcher keys the root in force lists, from this host's key store and
 * those brought to the ceremony, each key once.
 */
export async function localDispatcherSigners(ch: CeremonyHome): Promise<SigningKey[]> {
  const listed = new Set(ch.root.keys.map((k) => toHex(k.publicKey)));
  const chosen = new Map<string, SigningKey>();
  const candidates = [...ch.broughtSigners];
  for (const seed of await ch.keys.loadDispatchers()) {
    try {
      candidates.push(await SigningKey.fromSeed(seed));
    } finally {
      seed.fill(0);
    }
  }
  for (const key of candidates) {
    const hex = toHex(key.publicKey);
    if (listed.has(hex) && !chosen.has(hex)) chosen.set(hex, key);
  }
  return [...chosen.values()];
}

/**
 * A threshold of the root's dispatcher keys from this host's key store, or a
 * `bad_threshold` refusal naming how many are here and how many are needed.
 */
export async function requireDispatcherSigners(
  ch: CeremonyHome,
  what: string,
): Promise<SigningKey[]> {
  const signers = await localDispatcherSigners(ch);
  if (signers.length < ch.root.threshold) {
    throw new SaoeError(
      "bad_threshold",
      `Cannot ${what}: ${signers.length} of the ${ch.root.threshold} dispatcher keys of trust root v${ch.root.version} it needs are in ${
        join(ch.home.keys, "dispatcher")
      } or were brought with --dispatcher-key FILE`,
    );
  }
  return signers;
}
