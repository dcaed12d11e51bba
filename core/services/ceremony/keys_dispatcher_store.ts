/**
 * Dispatcher seeds across a rotation, all age-encrypted to the home's master
 * identity like the rest of the key store:
 *
 * ```
 * keys/dispatcher/<i>.age                              the keys of the root in force
 * keys/dispatcher/pending/v<N>/dispatcher/<i>.age      new keys of a pending root vN
 * keys/dispatcher/retired/v<N>/dispatcher/<i>.age      the keys root vN listed, kept after rotation
 * ```
 *
 * Retired seeds are kept (encrypted) rather than deleted so an operator can still
 * prove what an old key signed or finish a half-done ceremony; the trust chain
 * never consults them, and no statement signed only by them verifies against
 * the root in force. Delete `keys/dispatcher/retired/` to destroy them.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { AGE_IDENTITY_RE, recipientOf } from "../../domain/vault/age.ts";
import { KeyStore } from "../../domain/keys/keystore.ts";

const MAX_DISPATCHER_KEYS = 64;

/** `keys/dispatcher/pending/v<N>` or `keys/dispatcher/retired/v<N>`. */
export function dispatcherSubstoreDir(
  keysDir: string,
  kind: "pending" | "retired",
  rootVersion: number,
): string {
  if (!Number.isSafeInteger(rootVersion) || rootVersion < 1) {
    throw new RangeError(`Invalid root version ${rootVersion}`);
  }
  return join(keysDir, "dispatcher", kind, `v${rootVersion}`);
}

async function masterIdentity(keysDir: string): Promise<string> {
  const path = join(keysDir, "master.key");
  const info = await Deno.lstat(path).catch(() => undefined);
  if (info === undefined || !info.isFile || info.isSymlink || (info.nlink ?? 1) !== 1) {
    throw new SaoeError("unsafe_path", `Cannot read ${path}: not a regular single-link file`, {
      file: path,
    });
  }
  const text = (await Deno.readTextFile(path)).trim();
  if (!AGE_IDENTITY_RE.test(text)) {
    throw new SaoeError("parse_error", `Invalid master key ${path}: expected one age identity`);
  }
  return text;
}

/** A key store of pending or retired dispatcher seeds (created on demand). */
export async function openDispatcherSubstore(
  keysDir: string,
  kind: "pending" | "retired",
  rootVersion: number,
): Promise<KeyStore> {
  const dir = dispatcherSubstoreDir(keysDir, kind, rootVersion);
  await Deno.mkdir(join(dir, "dispatcher"), { recursive: true, mode: 0o700 });
  const identity = await masterIdentity(keysDir);
  return new KeyStore(dir, identity, await recipientOf(identity));
}

/** True when a pending rotation to root `rootVersion` has seeds on this host. */
export async function hasPendingSeeds(keysDir: string, rootVersion: number): Promise<boolean> {
  const first = join(dispatcherSubstoreDir(keysDir, "pending", rootVersion), "dispatcher", "1.age");
  return await Deno.lstat(first).then(() => true, () => false);
}

/** Stores `seeds` as keys 1..n of `store`. */
export async function saveSeeds(
  store: KeyStore,
  seeds: readonly Uint8Array<ArrayBuffer>[],
): Promise<void> {
  for (let i = 0; i < seeds.length; i++) await store.saveDispatcher(i + 1, seeds[i]!);
}

/**
 * Makes `seeds` the dispatcher keys in force: writes 1..n and removes any higher
 * index left from a larger old set (else `loadDispatchers` would still return it).
 */
export async function replaceDispatcherSeeds(
  keys: KeyStore,
  seeds: readonly Uint8Array<ArrayBuffer>[],
): Promise<void> {
  await saveSeeds(keys, seeds);
  for (let i = seeds.length + 1; i <= MAX_DISPATCHER_KEYS; i++) {
    const path = join(keys.dir, "dispatcher", `${i}.age`);
    const gone = await Deno.remove(path).then(() => false, () => true);
    if (gone) break;
  }
}

/** Removes the pending seeds of root `rootVersion` (after commit, or to discard). */
export async function removePendingSeeds(keysDir: string, rootVersion: number): Promise<void> {
  await Deno.remove(dispatcherSubstoreDir(keysDir, "pending", rootVersion), { recursive: true })
    .catch((err: unknown) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
}
