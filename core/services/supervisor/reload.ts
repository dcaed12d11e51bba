/**
 * What changed between two verified trust states, and whether anything did.
 *
 * The supervisor re-verifies the home (the same `preflight` it starts with) when
 * `trust/` or `vault/` change or on SIGHUP. {@linkcode trustFingerprint} tells a
 * real change from a spurious event (one SHA-256 over every file name and its
 * bytes); {@linkcode diffTrust} tells the ledger what changed: the root version
 * and whether its dispatcher keys changed (a dispatcher rotation), which agents
 * hold a different key set (a rotation), which lost every current key
 * (revoked) and which regained one (restored, e.g. re-admitted by a rotation);
 * {@linkcode planReload} decides what the supervisor does about it.
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex, toHex, utf8 } from "../../primitives/crypto/bytes.ts";
import { isTempName } from "../../primitives/fs/atomic_write.ts";
import type { AgentDirectory } from "../../domain/trust/agent_directory.ts";
import type { VerifiedRoot } from "../../domain/trust/chain.ts";
import type { VerifiedHome } from "./preflight.ts";

/** The parts of a verified home a diff compares. */
export interface TrustSnapshot {
  root: VerifiedRoot;
  directory: AgentDirectory;
}

/** What changed between two verified states. */
export interface TrustDiff {
  previousRootVersion: number;
  rootVersion: number;
  /** The root's dispatcher key set differs (a dispatcher rotation). */
  dispatcherKeysChanged: boolean;
  previousDirectoryVersion: number;
  directoryVersion: number;
  /** Agents whose current keys differ and who still hold one. */
  rotated: string[];
  /** Agents that held a current key and hold none now. */
  revoked: string[];
  /** Agents that held no current key and hold one now. */
  restored: string[];
}

function keySet(directory: AgentDirectory, agent: string, nowMs: number): string[] | undefined {
  const keys = directory.senderKeys(agent, nowMs);
  if (keys.status !== "ok") return undefined;
  return keys.current.map((k) => toHex(k.publicKey)).sort();
}

/**
 * True when `publicKey` is one of the keys `directory` lists as current for
 * `agent` at `nowMs`. A ceremony writes an agent's new secrets to `keys/` before
 * its new directory: an agent restarted in between would be handed a key the
 * directory in force does not list yet, so the supervisor restarts it only once
 * the two agree.
 *
 * @example
 * ```ts ignore
 * if (!listsCurrentKey(verified.directory, "intake", key.publicKey, Date.now())) skip();
 * ```
 */
export function listsCurrentKey(
  directory: AgentDirectory,
  agent: string,
  publicKey: Uint8Array,
  nowMs: number,
): boolean {
  return keySet(directory, agent, nowMs)?.includes(toHex(publicKey)) === true;
}

/**
 * Compares two verified states for `agents` at `nowMs`.
 *
 * @example
 * ```ts ignore
 * const diff = diffTrust(before, after, config.agents, Date.now());
 * if (diff.revoked.includes("planner")) console.log("planner revoked");
 * ```
 */
export function diffTrust(
  before: TrustSnapshot,
  after: TrustSnapshot,
  agents: readonly string[],
  nowMs: number,
): TrustDiff {
  const oldKeys = before.root.keys.map((k) => toHex(k.publicKey)).sort().join(",");
  const newKeys = after.root.keys.map((k) => toHex(k.publicKey)).sort().join(",");
  const rotated: string[] = [];
  const revoked: string[] = [];
  const restored: string[] = [];
  for (const agent of agents) {
    const was = keySet(before.directory, agent, nowMs);
    const is = keySet(after.directory, agent, nowMs);
    if (was !== undefined && is === undefined) revoked.push(agent);
    else if (was === undefined && is !== undefined) restored.push(agent);
    else if (was !== undefined && is !== undefined && was.join(",") !== is.join(",")) {
      rotated.push(agent);
    }
  }
  return {
    previousRootVersion: before.root.version,
    rootVersion: after.root.version,
    dispatcherKeysChanged: oldKeys !== newKeys || before.root.threshold !== after.root.threshold,
    previousDirectoryVersion: before.directory.version,
    directoryVersion: after.directory.version,
    rotated,
    revoked,
    restored,
  };
}

/** What `key_rotated` says a reload was (`detail.kind`). */
export type ReloadKind = "dispatcher" | "revoked" | "agent" | "renewed" | "reloaded";

/** What an applied reload does: stop, restart, and how to record it. */
export interface ReloadPlan {
  diff: TrustDiff;
  /** Agents that hold no valid key now: stopped (not drained) and not restarted. */
  revoked: string[];
  /**
   * Every other agent, restarted one at a time in this order: the revoked agents'
   * receivers first (until restarted they hold the old directory), then the rest
   * in configuration order.
   */
  restartOrder: string[];
  kind: ReloadKind;
}

function capsetVersions(home: VerifiedHome): string {
  return [...home.capsets].map(([a, c]) => `${a}:${c.version}`).sort().join(",");
}

function currentKeyHolder(directory: AgentDirectory, agent: string, nowMs: number): boolean {
  return directory.senderKeys(agent, nowMs).status === "ok";
}

/**
 * Plans the application of a newly verified trust state.
 *
 * @example
 * ```ts ignore
 * const plan = planReload(before, after, config.agents, Date.now());
 * for (const agent of plan.revoked) console.log(`stopping ${agent}`);
 * ```
 */
export function planReload(
  before: VerifiedHome,
  after: VerifiedHome,
  agents: readonly string[],
  nowMs: number,
): ReloadPlan {
  const diff = diffTrust(before, after, agents, nowMs);
  const revoked = agents.filter((a) => !currentKeyHolder(after.directory, a, nowMs));
  const receivers = agents.filter((a) =>
    after.capsets.get(a)?.receives.some((r) => revoked.includes(r.from)) === true
  );
  const restartOrder = [...new Set([...receivers, ...agents])].filter((a) => !revoked.includes(a));
  const versionsChanged = diff.rootVersion !== diff.previousRootVersion ||
    diff.directoryVersion !== diff.previousDirectoryVersion ||
    before.toolManifest.version !== after.toolManifest.version ||
    capsetVersions(before) !== capsetVersions(after);
  const kind: ReloadKind = diff.dispatcherKeysChanged
    ? "dispatcher"
    : diff.revoked.length > 0
    ? "revoked"
    : diff.rotated.length + diff.restored.length > 0
    ? "agent"
    : versionsChanged
    ? "renewed"
    : "reloaded";
  return { diff, revoked, restartOrder, kind };
}

async function collect(dir: string, prefix: string, out: string[]): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (isTempName(entry.name)) continue;
    const path = join(dir, entry.name);
    const name = `${prefix}/${entry.name}`;
    if (entry.isDirectory) await collect(path, name, out);
    else if (entry.isFile) {
      const bytes = await Deno.readFile(path).catch(() => new Uint8Array());
      out.push(`${name}:${await sha256Hex(bytes)}`);
    } else out.push(`${name}:other`);
  }
}

/**
 * One SHA-256 over the names and bytes of every file under `trust/` and `vault/`
 * (temp files of atomic writes in progress excluded).
 *
 * @example
 * ```ts
 * import { trustFingerprint } from "./reload.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/trust`);
 * const a = await trustFingerprint({ trust: `${dir}/trust`, vault: `${dir}/vault` });
 * await Deno.writeTextFile(`${dir}/trust/directory.json`, "{}");
 * if (a === await trustFingerprint({ trust: `${dir}/trust`, vault: `${dir}/vault` })) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function trustFingerprint(home: { trust: string; vault: string }): Promise<string> {
  const lines: string[] = [];
  await collect(home.trust, "trust", lines);
  await collect(home.vault, "vault", lines);
  return await sha256Hex(utf8(lines.join("\n")));
}
