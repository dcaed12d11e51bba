/**
 * `saoe keys rotate dispatcher`: new dispatcher keys and trust root N+1, signed
 * by a threshold of root N's keys AND a threshold of its own (TUF's rotation
 * rule, checked by `verifyRootChain`), then every dispatcher-signed statement
 * re-signed with the new keys: capability sets (re-published encrypted as
 * before), template manifests (same id, version and sha256; the ciphertext stays),
 * the tool manifest and, last, the agent key directory.
 *
 * Order of writes, so a running supervisor (which watches `trust/` and `vault/`)
 * only ever applies a complete state: root N+1, the key store swap, the vault
 * statements, and the directory last; until the directory is re-signed the new
 * root does not verify the old directory and the supervisor keeps running on
 * what it verified before. A ceremony cut short is finished with
 * `saoe keys renew all` (it re-signs everything with the keys in force).
 *
 * The new seeds are stored as the key store's dispatcher keys; the old ones are
 * kept encrypted under `keys/dispatcher/retired/v<N>/` (see
 * `keys_dispatcher_store.ts`). After the rotation a statement signed only by a
 * retired key is refused with `dispatcher_signature`.
 *
 * k of n across hosts: `pending` writes root N+1 to a file with the signatures
 * available here (all new keys, and root N's keys present in the key store),
 * keeps the new seeds under `keys/dispatcher/pending/`, and `commitRoot` installs
 * it once both thresholds are met; before that it is refused and nothing is
 * written.
 *
 * Keeping the dispatcher off the pipeline host (`init --offline-dispatcher`):
 * with `exportTo` the new seeds are written to a passphrase-encrypted file
 * (`dispatcher_export.ts`, before anything else is written, so they cannot be
 * lost) and removed from this host's key store instead of becoming its
 * dispatcher keys.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
import { constantTimeEqual, toHex } from "../../primitives/crypto/bytes.ts";
import { MAX_SIGNATURES } from "../../primitives/dsse/parse.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { verifyRootChain } from "../../domain/trust/chain.ts";
import { readTrustFile, rootFile, writeRootFile } from "../../domain/trust/files.ts";
import { ROOT_MAX_BYTES, rootKeyOf, signRoot } from "../../domain/trust/root.ts";
import { type CeremonyHome, localDispatcherSigners, openCeremonyHome } from "./keys_home.ts";
import {
  hasPendingSeeds,
  openDispatcherSubstore,
  removePendingSeeds,
  replaceDispatcherSeeds,
  saveSeeds,
} from "./keys_dispatcher_store.ts";
import { nextDirectory } from "./keys_directory.ts";
import type { KeyEventRecorder } from "./keys_audit.ts";
import { beginVaultReissue } from "./vault_reissue.ts";
import { checkExportPath, writeDispatcherExport } from "./dispatcher_export.ts";
import { describePendingRoot, parsePendingRoot, type PendingRootStatus } from "./rotate_pending.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

const MAX_KEYS = 32;

/** Options for {@linkcode rotateDispatcher}. */
export interface RotateDispatcherOptions {
  /** Write the new seeds to this passphrase-encrypted file and keep none on this host. */
  exportTo?: { path: string; passphrase: string };
  /** Dispatcher seeds brought from an offline export (`--dispatcher-key FILE`). */
  dispatcherSeeds?: readonly Uint8Array<ArrayBuffer>[];
  home: string;
  clock: Clock;
  /** Signatures root N+1 requires (k); default the current threshold, at most n. */
  threshold?: number;
  /** Keys root N+1 lists (n); default the number root N lists. */
  keys?: number;
  /** Write root N+1 to this file for more signatures instead of installing it. */
  pendingFile?: string;
  progress?: (line: string) => void;
}

/** What a dispatcher rotation did. */
export interface RotateDispatcherResult {
  /** `committed`: root N+1 is in force; `pending`: written to the pending file. */
  state: "committed" | "pending";
  previousVersion: number;
  version: number;
  threshold: number;
  /** Key ids of root N+1. */
  keyids: string[];
  /** Signature status of the pending root (always set). */
  status: PendingRootStatus;
  /** What was re-signed (committed only). */
  resigned?: ResignedSummary;
  /** Who records `key_rotated` (committed only). */
  recordedBy?: KeyEventRecorder;
}

/** Statements re-signed by a commit. */
export interface ResignedSummary {
  capsets: string[];
  manifests: string[];
  toolManifestVersion: number;
  directoryVersion: number;
}

function checkShape(threshold: number, keys: number): void {
  if (
    !Number.isSafeInteger(threshold) || !Number.isSafeInteger(keys) || threshold < 1 ||
    keys < threshold || keys > MAX_KEYS
  ) {
    throw new SaoeError(
      "bad_threshold",
      `Cannot create a trust root with threshold ${threshold} of ${keys} keys: expected 1 <= k <= n <= ${MAX_KEYS}`,
    );
  }
}

/**
 * Generates new dispatcher keys and root N+1; installs it (and re-signs the
 * vault) when this host holds a threshold of root N's keys, or writes it to
 * `pendingFile` for more signatures.
 *
 * @example
 * ```ts ignore
 * const result = await rotateDispatcher({ home: ".saoe", clock: systemClock });
 * console.log(result.version);
 * ```
 */
export async function rotateDispatcher(
  options: RotateDispatcherOptions,
): Promise<RotateDispatcherResult> {
  const progress = options.progress ?? (() => {});
  const ch = await openCeremonyHome({
    home: options.home,
    clock: options.clock,
    allowExpired: true,
    ...(options.dispatcherSeeds !== undefined ? { dispatcherSeeds: options.dispatcherSeeds } : {}),
  });
  const current = ch.root;
  const n = options.keys ?? current.keys.length;
  const k = options.threshold ?? Math.min(current.threshold, n);
  checkShape(k, n);
  const version = current.version + 1;
  if (await hasPendingSeeds(ch.home.keys, version)) {
    throw new SaoeError(
      "bad_config",
      `Cannot start another rotation to trust root v${version}: one is pending (commit it with "saoe keys rotate dispatcher --commit FILE", or discard it by deleting ${ch.home.keys}/dispatcher/pending/)`,
    );
  }
  const oldSigners = await localDispatcherSigners(ch);
  if (options.pendingFile === undefined && oldSigners.length < current.threshold) {
    throw new SaoeError(
      "bad_threshold",
      `Cannot rotate the dispatcher keys here: trust root v${current.version} needs ${current.threshold} of its keys to sign and this host holds ${oldSigners.length}; use --pending FILE, collect signatures with "saoe keys sign-root FILE --key K", then --commit FILE`,
    );
  }
  progress(`Generating ${n} dispatcher key(s), threshold ${k}, for trust root v${version}`);
  const seeds = Array.from({ length: n }, () => generateSeed());
  const newKeys: SigningKey[] = [];
  for (const seed of seeds) newKeys.push(await SigningKey.fromSeed(seed));
  const now = options.clock.now();
  // a DSSE statement carries at most MAX_SIGNATURES signatures: all new keys when they fit
  const newSigners = oldSigners.length + n <= MAX_SIGNATURES ? newKeys : newKeys.slice(0, k);
  const bytes = await signRoot({
    payload: {
      version,
      issued_at: formatTimestamp(now),
      expires_at: formatTimestamp(now + ch.config.validity.root_days * DAY_MS),
      threshold: k,
      keys: newKeys.map(rootKeyOf),
    },
    signers: [...oldSigners, ...newSigners],
  });
  const pending = await openDispatcherSubstore(ch.home.keys, "pending", version);
  await saveSeeds(pending, seeds);
  for (const seed of seeds) seed.fill(0);
  const status = await describePendingRoot(current, bytes);
  const base = {
    previousVersion: current.version,
    version,
    threshold: k,
    keyids: newKeys.map((key) => key.keyid),
    status,
  };
  if (options.pendingFile !== undefined) {
    await writeFileAtomic(options.pendingFile, bytes, { overwrite: false });
    progress(`Pending trust root v${version} written to ${options.pendingFile}`);
    return { state: "pending", ...base };
  }
  let committed;
  try {
    committed = await commitRootIn(ch, bytes, progress, options.exportTo);
  } catch (err: unknown) {
    // nothing of a refused commit may linger: without root N+1 the new seeds are useless
    const installed = await Deno.lstat(rootFile(ch.home.trust, version)).then(
      () => true,
      () => false,
    );
    if (!installed) await removePendingSeeds(ch.home.keys, version);
    throw err;
  }
  return { state: "committed", ...base, ...committed };
}

/** Options for {@linkcode commitRoot}. */
export interface CommitRootOptions {
  /** Write the new seeds to this passphrase-encrypted file and keep none on this host. */
  exportTo?: { path: string; passphrase: string };
  /** Dispatcher seeds brought from an offline export (`--dispatcher-key FILE`). */
  dispatcherSeeds?: readonly Uint8Array<ArrayBuffer>[];
  home: string;
  clock: Clock;
  /** The pending root file's bytes. */
  bytes: Uint8Array;
  progress?: (line: string) => void;
}

/**
 * Installs a pending root N+1 when both thresholds are met (else refused, nothing
 * written) and re-signs every statement with its keys.
 */
export async function commitRoot(options: CommitRootOptions): Promise<RotateDispatcherResult> {
  const ch = await openCeremonyHome({
    home: options.home,
    clock: options.clock,
    allowExpired: true,
    ...(options.dispatcherSeeds !== undefined ? { dispatcherSeeds: options.dispatcherSeeds } : {}),
  });
  const status = await describePendingRoot(ch.root, options.bytes);
  const { payload } = parsePendingRoot(options.bytes);
  const committed = await commitRootIn(
    ch,
    options.bytes,
    options.progress ?? (() => {}),
    options.exportTo,
  );
  return {
    state: "committed",
    previousVersion: ch.root.version,
    version: payload.version,
    threshold: payload.threshold,
    keyids: payload.keys.map((key) => key.keyid),
    status,
    ...committed,
  };
}

async function commitRootIn(
  ch: CeremonyHome,
  bytes: Uint8Array,
  progress: (line: string) => void,
  exportTo?: { path: string; passphrase: string },
): Promise<{ resigned: ResignedSummary; recordedBy: KeyEventRecorder }> {
  const previous = ch.root;
  const version = previous.version + 1;
  // the exact check every verifier will make: the whole chain with root N+1 at its end
  const next = await verifyRootChain({
    roots: [...ch.chain, bytes],
    pin: ch.config.root_pin,
    clock: ch.clock,
    skewMs: ch.config.skew_ms,
    versionStore: ch.versionStore,
  }).catch((err: unknown) => {
    throw err instanceof SaoeError
      ? new SaoeError(
        err.code,
        `Cannot commit trust root v${version}: ${err.message}. Nothing was written`,
        {},
        { cause: err },
      )
      : err;
  });
  const pending = await openDispatcherSubstore(ch.home.keys, "pending", version);
  const listed = new Set(next.keys.map((key) => toHex(key.publicKey)));
  const seeds = (await pending.loadDispatchers()).slice();
  const signers: SigningKey[] = [];
  for (const seed of seeds) {
    const key = await SigningKey.fromSeed(seed);
    if (listed.has(toHex(key.publicKey))) signers.push(key);
  }
  if (signers.length < next.threshold) {
    for (const seed of seeds) seed.fill(0);
    throw new SaoeError(
      "bad_threshold",
      `Cannot commit trust root v${version}: ${signers.length} of the ${next.threshold} new dispatcher keys it needs to re-sign the vault are in ${ch.home.keys}/dispatcher/pending/v${version}. Nothing was written`,
    );
  }
  // the vault must verify under root N before anything is re-signed under N+1
  using reissue = await beginVaultReissue(ch, "statements");
  if (exportTo !== undefined) {
    await checkExportPath(exportTo.path, ch.home.root);
    await writeDispatcherExport({
      path: exportTo.path,
      seeds,
      passphrase: exportTo.passphrase,
      clock: ch.clock,
    });
    progress(`New dispatcher keys exported to ${exportTo.path}; none is kept on this host`);
  }

  const path = rootFile(ch.home.trust, version);
  const existing = await readTrustFile(path, ROOT_MAX_BYTES).catch(() => undefined);
  if (existing === undefined) {
    await writeRootFile(ch.home.trust, version, bytes);
  } else if (!constantTimeEqual(existing, bytes)) {
    throw new SaoeError(
      "rollback",
      `Cannot commit trust root v${version}: ${path} exists with other bytes`,
      { file: path },
    );
  }
  progress(`Trust root v${version} installed (${next.threshold} of ${next.keys.length} keys)`);

  const retired = await openDispatcherSubstore(ch.home.keys, "retired", previous.version);
  const oldSeeds = await ch.keys.loadDispatchers();
  await saveSeeds(retired, oldSeeds);
  for (const seed of oldSeeds) seed.fill(0);
  await replaceDispatcherSeeds(ch.keys, exportTo === undefined ? seeds : []);
  for (const seed of seeds) seed.fill(0);
  await removePendingSeeds(ch.home.keys, version);
  progress(`Dispatcher keys of root v${previous.version} retired to keys/dispatcher/retired/`);

  const now = ch.clock.now();
  const directoryPayload = nextDirectory(ch.directoryPayload, {
    nowMs: now,
    validityDays: ch.config.validity.directory_days,
  });
  // the directory, written last, completes the state a running supervisor will verify
  const written = await reissue.commit({
    signers,
    directory: directoryPayload,
    capsets: { bumpVersion: false },
    manifests: true,
    toolManifest: true,
    onStep: (step, { capsets = [], manifests = [], toolManifestVersion }) => {
      if (step !== "directory") return;
      progress(
        `Re-signed ${capsets.length} capsets, ${manifests.length} template manifests, tool manifest v${toolManifestVersion}, directory v${directoryPayload.version}`,
      );
    },
    event: {
      kind: "dispatcher",
      root_version: version,
      previous_root_version: previous.version,
      threshold: next.threshold,
      keyids: next.keys.map((key) => key.keyid),
    },
  });
  return {
    resigned: {
      capsets: written.capsets ?? [],
      manifests: written.manifests ?? [],
      toolManifestVersion: written.toolManifestVersion!,
      directoryVersion: directoryPayload.version,
    },
    recordedBy: written.recordedBy,
  };
}
