/**
 * The trust floor: the versions of the trust state that must never go down, and
 * the keys that must never come back. A version store in the home
 * (`agents/<agent>/store/versions.json`) is a file, and someone who can write
 * the home can copy an earlier one back together with the earlier `trust/`
 * files; the floor is read from the witnessed audit ledger instead (its
 * `trust_versions` events, `core/domain/ledger/trust_versions.ts`), where an
 * earlier state cannot be put back.
 *
 * A floor holds the highest version seen per kind, keyed as the version stores
 * key them (`root`, `directory`, `capset:<agent>`) plus `template:<id>` (the
 * newest manifest of each template in the vault) and `tool_manifest`, and the
 * ids of the keys revoked so far: every key a directory in force listed as
 * current that a later directory in force no longer lists as current (removed,
 * or its window closed). A key id here is the hex SHA-256 of the raw public key
 * (what SAOE's key ids are), so a key cannot come back under another label.
 *
 * @module
 */
import { keyIdOf } from "../../primitives/crypto/ed25519.ts";
import { SaoeError } from "../../primitives/errors.ts";
import type { AgentDirectory } from "./agent_directory.ts";

/** The versions that must not go down and the keys that must not come back. */
export interface TrustFloor {
  /** Highest version per kind (`root`, `directory`, `capset:<agent>`, `template:<id>`, `tool_manifest`). */
  readonly versions: Readonly<Record<string, number>>;
  /** Hex SHA-256 of each revoked public key, in the order they were revoked. */
  readonly revoked: readonly string[];
}

/** A floor that refuses nothing (a ledger with no `trust_versions` event yet). */
export const EMPTY_FLOOR: TrustFloor = { versions: {}, revoked: [] };

/** Floor key of the tool manifest. */
export const TOOL_MANIFEST_VERSION_KEY = "tool_manifest";

/** Floor key of the newest manifest of template `id`. */
export function templateVersionKey(id: string): string {
  return `template:${id}`;
}

/**
 * The floor raised by `versions` (each kind to the higher of both) and `revoked`
 * (added once each, after those already known). Never lowers anything.
 *
 * @example
 * ```ts
 * import { EMPTY_FLOOR, raiseFloor } from "./trust_floor.ts";
 * const a = raiseFloor(EMPTY_FLOOR, { root: 2, directory: 5 }, ["ab"]);
 * const b = raiseFloor(a, { root: 1, directory: 6 }, ["ab", "cd"]);
 * if (b.versions.root !== 2 || b.versions.directory !== 6 || b.revoked.length !== 2) throw new Error();
 * ```
 */
export function raiseFloor(
  floor: TrustFloor,
  versions: Readonly<Record<string, number>>,
  revoked: readonly string[] = [],
): TrustFloor {
  const next: Record<string, number> = {};
  const set = (key: string, value: number) =>
    Object.defineProperty(next, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  for (const [key, value] of Object.entries(floor.versions)) set(key, value);
  for (const [key, value] of Object.entries(versions)) {
    if (!Number.isSafeInteger(value) || value < 0) continue;
    if (value > (Object.hasOwn(next, key) ? next[key]! : 0)) set(key, value);
  }
  const known = new Set(floor.revoked);
  const added: string[] = [];
  for (const id of revoked) {
    if (known.has(id)) continue;
    known.add(id);
    added.push(id);
  }
  return {
    versions: next,
    revoked: added.length === 0 ? floor.revoked : [...floor.revoked, ...added],
  };
}

/** The current keys of every agent `directory` lists at `nowMs`, by key id. */
async function currentKeyIds(
  directory: AgentDirectory,
  nowMs: number,
): Promise<Map<string, { agent: string; keyid: string }>> {
  const out = new Map<string, { agent: string; keyid: string }>();
  for (const agent of directory.agents()) {
    const keys = directory.senderKeys(agent, nowMs);
    if (keys.status !== "ok") continue;
    for (const key of keys.current) {
      out.set(await keyIdOf(key.publicKey), { agent, keyid: key.keyid });
    }
  }
  return out;
}

/**
 * The keys `before` lists as current at `nowMs` that `after` does not (removed,
 * or their window closed by a rotation or revocation): what a change from one
 * directory in force to the next revoked. Both are judged at the same instant,
 * so a window that simply ran out is not counted (a renewal may reopen it).
 *
 * @example
 * ```ts ignore
 * const revoked = await revokedKeyIds(previous.directory, verified.directory, Date.now());
 * ```
 */
export async function revokedKeyIds(
  before: AgentDirectory,
  after: AgentDirectory,
  nowMs: number,
): Promise<string[]> {
  const was = await currentKeyIds(before, nowMs);
  const is = await currentKeyIds(after, nowMs);
  return [...was.keys()].filter((id) => !is.has(id));
}

/** A trust state as the floor judges it. */
export interface TrustStateVersions {
  /** The version of each kind verified now (a template with no manifest is absent). */
  versions: Readonly<Record<string, number>>;
  /** The verified directory in force (its current keys must not be revoked ones). */
  directory: AgentDirectory;
  /** The file (or folder) a kind is read from, for messages. */
  fileOf(key: string): string;
}

/** What a kind of the floor is, for messages. */
export function describeKind(key: string): string {
  if (key === "root") return "trust root";
  if (key === "directory") return "agent key directory";
  if (key === TOOL_MANIFEST_VERSION_KEY) return "tool manifest";
  const [kind, name] = key.split(":");
  if (kind === "capset") return `capability set of ${name}`;
  if (kind === "template") return `manifest of template ${name}`;
  return key;
}

/** A trust state below its floor: `rollback`, naming the kind, both versions and the fix. */
export class TrustFloorError extends SaoeError {
  /** The floor key refused (`directory`, `capset:planner`, …; `revoked_key` for a revoked key). */
  readonly kind: string;
  /** The file's version (for a revoked key: the directory's). */
  readonly version: number;
  /** The version the ledger records in force (for a revoked key: the same as `version`). */
  readonly recorded: number;

  /** Creates the refusal. */
  constructor(
    kind: string,
    version: number,
    recorded: number,
    message: string,
    file: string,
  ) {
    super("rollback", message, { file });
    this.name = "TrustFloorError";
    this.kind = kind;
    this.version = version;
    this.recorded = recorded;
  }
}

/**
 * Refuses a trust state below `floor`: any kind whose version is lower than the
 * recorded one (a kind of the floor missing from `state.versions` counts as
 * version 0, except capability sets of agents not verified now), and any
 * directory that lists a revoked key as current at `nowMs`. Throws a
 * {@linkcode TrustFloorError} (`rollback`).
 *
 * @example
 * ```ts ignore
 * await assertTrustFloor({ versions, directory, fileOf }, floor, Date.now());
 * ```
 */
export async function assertTrustFloor(
  state: TrustStateVersions,
  floor: TrustFloor,
  nowMs: number,
): Promise<void> {
  for (const key of Object.keys(floor.versions).sort()) {
    const recorded = floor.versions[key]!;
    const present = Object.hasOwn(state.versions, key);
    // a capset is verified for the agents the home runs; one no longer run has none
    if (!present && key.startsWith("capset:")) continue;
    const version = present ? state.versions[key]! : 0;
    if (version >= recorded) continue;
    const kind = describeKind(key);
    const file = state.fileOf(key);
    const found = present ? `is version ${version}` : "holds no version of it";
    throw new TrustFloorError(
      key,
      version,
      recorded,
      `Rollback of the ${kind}: ${file} ${found}, but the audit ledger records version ${recorded} in force (trust_versions). Fix: put back the ${kind} the last ceremony wrote (from a backup of the home), or repeat that ceremony on this home; a version the ledger records is never lowered`,
      file,
    );
  }
  if (floor.revoked.length === 0) return;
  const revoked = new Set(floor.revoked);
  for (const [id, { agent, keyid }] of await currentKeyIds(state.directory, nowMs)) {
    if (!revoked.has(id)) continue;
    const file = state.fileOf("directory");
    const version = state.directory.version;
    throw new TrustFloorError(
      "revoked_key",
      version,
      version,
      `Rollback of the agent key directory: ${file} (version ${version}) lists key ${
        keyid.slice(0, 16)
      } of agent "${agent}" as current, but the audit ledger records that key as revoked. Fix: put back the directory the last ceremony wrote (from a backup of the home), or revoke or rotate the keys of "${agent}" again ("saoe keys revoke ${agent}" or "saoe keys rotate ${agent}"); a key the ledger records as revoked never counts again`,
      file,
    );
  }
}
