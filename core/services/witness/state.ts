/**
 * A witness's state directory, kept outside any SAOE home (docs/witness.md):
 *
 * - `witness.key`: its Ed25519 seed (mode 0600), see `key_file.ts`;
 * - `witness.db`: its name, its public key, the logs it knows and the latest
 *   checkpoint it cosigned for each, see `witness_db.ts`;
 * - `witness.lock`: held shared by every running `saoe witness serve`, so that
 *   `saoe witness init --force` never replaces a state a witness is using.
 *
 * `initWitnessState` makes a new one (mode 0700, a fresh key); everything else
 * opens an existing one and never creates a missing piece: a witness whose
 * state is lost must be retired and a new one initialised under a new key,
 * because a witness that forgot what it cosigned would cosign a fork.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
import { constantTimeEqual } from "../../primitives/crypto/bytes.ts";
import { syncFolder } from "../../primitives/fs/atomic_write.ts";
import { lstatOrNull } from "../../primitives/fs/lstat_or_null.ts";
import { type Clock, systemClock } from "../../primitives/time/clock.ts";
import { encodeVkey, parseVkey } from "../../primitives/note/vkey.ts";
import { SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519 } from "../../primitives/note/key_id.ts";
import { checkOrigin, checkWitnessName } from "./names.ts";
import { readKeyFile, writeKeyFile } from "./key_file.ts";
import { checkPrivate, processOwner } from "./state_checks.ts";
import { type LogRecord, WitnessDb, type WitnessMeta } from "./witness_db.ts";

/** The files of a state directory. */
export interface WitnessPaths {
  dir: string;
  key: string;
  db: string;
  lock: string;
}

const STATE_FILES = ["witness.key", "witness.db", "witness.db-wal", "witness.db-shm"] as const;

/**
 * The files of the state directory `dir` (made absolute).
 *
 * @example
 * ```ts
 * import { witnessPaths } from "./state.ts";
 * if (!witnessPaths("/srv/witness").db.endsWith("/srv/witness/witness.db")) throw new Error();
 * ```
 */
export function witnessPaths(dir: string): WitnessPaths {
  const abs = resolve(dir);
  return {
    dir: abs,
    key: join(abs, "witness.key"),
    db: join(abs, "witness.db"),
    lock: join(abs, "witness.lock"),
  };
}

/** The witness's public identity. */
export interface WitnessIdentity {
  name: string;
  publicKey: Uint8Array<ArrayBuffer>;
  /** The cosignature verifier key (type 0x04) a home's config names. */
  vkey: string;
}

/** The identity of `meta`: its name, key and vkey. */
export function identityOf(meta: Pick<WitnessMeta, "name" | "publicKey">): WitnessIdentity {
  return {
    name: meta.name,
    publicKey: meta.publicKey,
    vkey: encodeVkey(meta.name, SIG_TYPE_COSIGNATURE_V1, meta.publicKey),
  };
}

/** Options for {@linkcode initWitnessState}. */
export interface InitWitnessOptions {
  dir: string;
  name: string;
  /** Replace the witness files of a non-empty directory (a new key: the old witness is retired). */
  force?: boolean;
  clock?: Clock;
}

/** What {@linkcode initWitnessState} made. */
export interface InitWitnessResult extends WitnessIdentity {
  paths: WitnessPaths;
  /** The identity whose files `--force` replaced, if any. */
  replaced?: WitnessIdentity;
}

/** Refuses a path inside a SAOE home (a folder holding `config.json`, `keys/` and `trust/`). */
async function refuseInsideHome(dir: string): Promise<void> {
  for (let at = dir;; at = dirname(at)) {
    const marks = await Promise.all(
      ["config.json", "keys", "trust"].map((n) => lstatOrNull(join(at, n))),
    );
    if (marks.every((m) => m !== null)) {
      throw new SaoeError(
        "unsafe_path",
        `Refusing a witness state directory inside the SAOE home ${at}: a witness is independent of the homes it cosigns for; use a directory outside it, e.g. owned by a separate service user`,
        { file: dir },
      );
    }
    if (dirname(at) === at) return;
  }
}

async function existingIdentity(paths: WitnessPaths): Promise<WitnessIdentity | undefined> {
  if ((await lstatOrNull(paths.db)) === null) return undefined;
  try {
    const db = WitnessDb.open(paths.db, { readOnly: true });
    try {
      return identityOf(db.meta());
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

/** Takes `witness.lock` exclusively (no `serve` runs) or refuses. */
async function lockExclusive(paths: WitnessPaths): Promise<Deno.FsFile> {
  const file = await openLockFile(paths);
  if (!(await file.tryLock(true))) {
    file.close();
    throw new SaoeError(
      "io_error",
      `Cannot replace the witness state in ${paths.dir}: a \`saoe witness serve\` is using it (it holds ${paths.lock}); stop it first`,
      { file: paths.lock },
    );
  }
  return file;
}

async function openLockFile(paths: WitnessPaths): Promise<Deno.FsFile> {
  const info = await lstatOrNull(paths.lock);
  if (info !== null && (!info.isFile || info.isSymlink)) {
    throw new SaoeError("unsafe_path", `Refusing ${paths.lock}: it is not a regular file`, {
      file: paths.lock,
    });
  }
  return await Deno.open(paths.lock, { read: true, write: true, create: true, mode: 0o600 });
}

/**
 * Creates a witness state in `dir`: the directory (mode 0700) if absent, a new
 * Ed25519 key, and `witness.db` naming it. A non-empty directory is refused
 * unless `force`, which replaces only the witness's own files.
 *
 * @example
 * ```ts
 * import { initWitnessState } from "./state.ts";
 * const tmp = await Deno.makeTempDir();
 * const made = await initWitnessState({ dir: `${tmp}/w`, name: "witness.local/alice" });
 * if (!made.vkey.startsWith("witness.local/alice+")) throw new Error(made.vkey);
 * await Deno.remove(tmp, { recursive: true });
 * ```
 */
export async function initWitnessState(options: InitWitnessOptions): Promise<InitWitnessResult> {
  const name = checkWitnessName(options.name);
  const clock = options.clock ?? systemClock;
  const paths = witnessPaths(options.dir);
  await refuseInsideHome(paths.dir);
  const info = await lstatOrNull(paths.dir);
  let replaced: WitnessIdentity | undefined;
  let lock: Deno.FsFile | undefined;
  if (info === null) {
    await Deno.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  } else {
    if (info.isSymlink || !info.isDirectory) {
      throw new SaoeError(
        "unsafe_path",
        `Cannot initialise a witness in ${paths.dir}: it is ${
          info.isSymlink ? "a symlink (use the real path)" : "not a directory"
        }`,
        { file: paths.dir },
      );
    }
    const entries: string[] = [];
    for await (const entry of Deno.readDir(paths.dir)) entries.push(entry.name);
    if (entries.length > 0 && options.force !== true) {
      replaced = await existingIdentity(paths);
      throw new SaoeError(
        "bad_config",
        replaced !== undefined
          ? `${paths.dir} already holds the witness ${replaced.name} (${replaced.vkey}); --force replaces it with a new key, after which the old witness is retired: remove its vkey from every home that trusts it`
          : `Cannot initialise a witness in ${paths.dir}: the directory is not empty (${entries.length} entries); use an empty or new directory, or --force`,
        { file: paths.dir },
      );
    }
    if (entries.length > 0) {
      lock = await lockExclusive(paths);
      replaced = await existingIdentity(paths);
      for (const file of STATE_FILES) {
        await Deno.remove(join(paths.dir, file)).catch((err: unknown) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
      }
    }
  }
  try {
    await Deno.chmod(paths.dir, 0o700);
    const seed = generateSeed();
    let key: SigningKey;
    try {
      key = await SigningKey.fromSeed(seed);
      await writeKeyFile(paths.key, seed);
    } finally {
      seed.fill(0);
    }
    // created 0600 before SQLite opens it: its -wal and -shm files take the same mode
    (await Deno.open(paths.db, { write: true, createNew: true, mode: 0o600 })).close();
    WitnessDb.create(paths.db, { name, publicKey: key.publicKey, createdAt: clock.now() }).close();
    await syncFolder(paths.dir);
    return {
      ...identityOf({ name, publicKey: key.publicKey }),
      paths,
      ...(replaced !== undefined ? { replaced } : {}),
    };
  } finally {
    lock?.close();
  }
}

const DIR_SPEC = { what: "state directory", directory: true, forbidden: 0o022, fixMode: 0o700 };
const KEY_SPEC = { what: "key file", directory: false, forbidden: 0o077, fixMode: 0o600 };
const DB_SPEC = { what: "database", directory: false, forbidden: 0o022, fixMode: 0o600 };

function notInitialised(paths: WitnessPaths, missing: string): SaoeError {
  return new SaoeError(
    "bad_config",
    `${paths.dir} is not an initialised witness state (${missing} is missing). A witness never recreates a lost state: if this witness had state, retire it; then create a new one with \`saoe witness init --state ${paths.dir} --name NAME\` (a new key) and add its logs`,
    { file: paths.dir },
  );
}

/** Refuses a missing or uninitialised state, without writing anything. */
async function checkInitialised(paths: WitnessPaths, withKey: boolean): Promise<void> {
  const dirInfo = await lstatOrNull(paths.dir);
  if (dirInfo === null) throw notInitialised(paths, "the directory");
  await checkPrivate(paths.dir, null, DIR_SPEC);
  if ((await lstatOrNull(paths.db)) === null) throw notInitialised(paths, "witness.db");
  if (withKey && (await lstatOrNull(paths.key)) === null) {
    throw notInitialised(paths, "witness.key");
  }
}

/** Refuses a missing, uninitialised, foreign or writable-by-others state. */
async function checkState(paths: WitnessPaths, withKey: boolean): Promise<void> {
  await checkInitialised(paths, withKey);
  const owner = await processOwner(paths.dir);
  await checkPrivate(paths.dir, owner, DIR_SPEC);
  if (withKey) await checkPrivate(paths.key, owner, KEY_SPEC);
  for (const file of [paths.db, `${paths.db}-wal`, `${paths.db}-shm`]) {
    if (file === paths.db || (await lstatOrNull(file)) !== null) {
      await checkPrivate(file, owner, DB_SPEC);
    }
  }
}

/** An opened state, for `serve`. */
export interface WitnessState extends WitnessIdentity {
  paths: WitnessPaths;
  key: SigningKey;
  db: WitnessDb;
  /** Closes the database and releases the shared lock. */
  close(): void;
}

/**
 * Opens the initialised, private state in `dir` for serving: checks every
 * file, holds `witness.lock` shared, opens the database and the key, and
 * refuses a key that is not the one the database names.
 */
export async function openWitnessState(dir: string): Promise<WitnessState> {
  const paths = witnessPaths(dir);
  await checkState(paths, true);
  const lock = await openLockFile(paths);
  let db: WitnessDb | undefined;
  try {
    if (!(await lock.tryLock(false))) {
      throw new SaoeError(
        "io_error",
        `Cannot serve ${paths.dir}: \`saoe witness init --force\` is replacing it`,
      );
    }
    db = WitnessDb.open(paths.db);
    const meta = db.meta();
    const key = await readKeyFile(paths.key);
    if (!constantTimeEqual(key.publicKey, meta.publicKey)) {
      throw new SaoeError(
        "bad_config",
        `The key in ${paths.key} is not the key ${paths.db} was created with: the state directory mixes two witnesses; retire both and initialise a new one`,
        { file: paths.key },
      );
    }
    const opened = db;
    return {
      ...identityOf(meta),
      paths,
      key,
      db: opened,
      close: () => {
        try {
          opened.close();
        } finally {
          lock.close();
        }
      },
    };
  } catch (err: unknown) {
    db?.close();
    lock.close();
    throw err;
  }
}

/** What `status` and `key` read: the identity and the logs, without the key. */
export interface WitnessInfo extends WitnessIdentity {
  paths: WitnessPaths;
  createdAt: number;
  logs: (LogRecord & { forks: number })[];
}

/**
 * Reads an initialised state without writing it (works while `serve` runs, and
 * for another user than its owner) and without reading the key.
 */
export async function readWitnessInfo(dir: string): Promise<WitnessInfo> {
  const paths = witnessPaths(dir);
  await checkInitialised(paths, false);
  const db = WitnessDb.open(paths.db, { readOnly: true });
  try {
    const meta = db.meta();
    return {
      ...identityOf(meta),
      paths,
      createdAt: meta.createdAt,
      logs: db.logs().map((log) => ({ ...log, forks: db.forkCount(log.origin) })),
    };
  } finally {
    db.close();
  }
}

/** Options for {@linkcode addWitnessLog}. */
export interface AddLogOptions {
  dir: string;
  origin: string;
  /** The log's verifier key: a vkey of type 0x01 whose name is the origin. */
  vkey: string;
  clock?: Clock;
}

/**
 * Registers a log in the state in `dir`; refuses a vkey that is not an Ed25519
 * note key (type 0x01) named by the origin, and an origin already known.
 *
 * @example
 * ```ts
 * import { addWitnessLog, initWitnessState, readWitnessInfo } from "./state.ts";
 * import { encodeVkey } from "../../primitives/note/vkey.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const tmp = await Deno.makeTempDir();
 * await initWitnessState({ dir: tmp, name: "witness.local/alice" });
 * const logKey = await SigningKey.fromSeed(generateSeed());
 * const vkey = encodeVkey("example.com/log", 0x01, logKey.publicKey);
 * await addWitnessLog({ dir: tmp, origin: "example.com/log", vkey });
 * if ((await readWitnessInfo(tmp)).logs[0]?.origin !== "example.com/log") throw new Error();
 * await Deno.remove(tmp, { recursive: true });
 * ```
 */
export async function addWitnessLog(options: AddLogOptions): Promise<LogRecord> {
  const origin = checkOrigin(options.origin);
  const vkey = options.vkey.trim();
  const parsed = parseVkey(vkey);
  if (parsed.type !== SIG_TYPE_ED25519) {
    throw new SaoeError(
      "bad_config",
      `Cannot add the log ${origin}: its vkey has signature type 0x${
        parsed.type.toString(16).padStart(2, "0")
      }, expected 0x01 (an Ed25519 checkpoint key)`,
    );
  }
  if (parsed.name !== origin) {
    throw new SaoeError(
      "bad_config",
      `Cannot add the log ${origin}: its vkey is named ${
        JSON.stringify(parsed.name.slice(0, 80))
      }, not the origin; a log's checkpoint key must carry its origin as its name (give the vkey the log publishes for this origin)`,
    );
  }
  const paths = witnessPaths(options.dir);
  await checkState(paths, false);
  const db = WitnessDb.open(paths.db);
  try {
    db.addLog(origin, vkey, (options.clock ?? systemClock).now());
    return db.log(origin)!;
  } finally {
    db.close();
  }
}
