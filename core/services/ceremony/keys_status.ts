/**
 * `saoe keys status`: every key and every signed statement with an expiry, and
 * how long each has left. Keys: the dispatcher keys of the root in force (valid
 * as long as that root), each agent's and the supervisor's keys from the
 * directory (current, retired or not yet valid). Statements: the root, the
 * directory, each capability set, each template manifest and the tool manifest,
 * each verified against the root in force (an expired one is still verified, at
 * its own `issued_at`, so it can be reported rather than refused).
 *
 * A current key or a statement is `warn` within 7 days of its expiry,
 * `critical` within 1 day, `expired` after; {@linkcode expiringWithin} is the
 * `--check` predicate for cron and CI.
 *
 * @module
 */
import { toHex } from "../../primitives/crypto/bytes.ts";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { parseTimestamp } from "../../primitives/time/timestamp.ts";
import { openCeremonyHome } from "./keys_home.ts";
import { readVaultState } from "./keys_vault.ts";
import { SUPERVISOR_ID } from "../../domain/home/layout.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

/** Days before expiry at which a row warns. */
export const WARN_DAYS = 7;
/** Days before expiry at which a row is critical. */
export const CRITICAL_DAYS = 1;

/** How close to its expiry a row is. */
export type ExpiryLevel = "ok" | "warn" | "critical" | "expired" | "retired";

/** One key. */
export interface KeyRow {
  /** `dispatcher`, `supervisor` or `agent`. */
  role: "dispatcher" | "supervisor" | "agent";
  /** The agent id, or `root vN` for a dispatcher key. */
  subject: string;
  /** Fingerprint: hex SHA-256 of the public key (or the listed key id). */
  keyid: string;
  valid_from: string;
  valid_until: string;
  /** `current` inside its window, `retired` after it, `future` before it. */
  state: "current" | "retired" | "future";
  days_left: number;
  level: ExpiryLevel;
  /** Dispatcher keys: whether this host's key store holds the seed. */
  on_host?: boolean;
}

/** One signed statement. */
export interface StatementRow {
  kind: "root" | "directory" | "capset" | "template_manifest" | "tool_manifest";
  /** The agent of a capset, `id@version` of a template manifest. */
  name: string;
  version: number;
  issued_at: string;
  expires_at: string;
  days_left: number;
  level: ExpiryLevel;
  /** The command that renews it. */
  renew: string;
}

/** The whole report. */
export interface KeysStatus {
  at: string;
  root_version: number;
  root_threshold: number;
  keys: KeyRow[];
  statements: StatementRow[];
  /** Agents the directory lists with no key at all (revoked). */
  revoked: string[];
}

/**
 * The level of something valid until `untilMs`.
 *
 * @example
 * ```ts
 * import { expiryLevel } from "./keys_status.ts";
 * import { DAY_MS as day } from "../../primitives/time/durations.ts";
 * if (expiryLevel(10 * day, 0) !== "ok" || expiryLevel(5 * day, 0) !== "warn") throw new Error();
 * if (expiryLevel(day / 2, 0) !== "critical" || expiryLevel(-1, 0) !== "expired") throw new Error();
 * ```
 */
export function expiryLevel(untilMs: number, nowMs: number): ExpiryLevel {
  const left = untilMs - nowMs;
  if (left <= 0) return "expired";
  if (left <= CRITICAL_DAYS * DAY_MS) return "critical";
  if (left <= WARN_DAYS * DAY_MS) return "warn";
  return "ok";
}

function daysLeft(untilMs: number, nowMs: number): number {
  return Math.round(((untilMs - nowMs) / DAY_MS) * 10) / 10;
}

/**
 * Rows (current keys and statements) that expire within `days` days of the
 * report's instant, or have expired.
 *
 * @example
 * ```ts
 * import { expiringWithin } from "./keys_status.ts";
 * const status = {
 *   at: "2026-01-01T00:00:00.000Z", root_version: 1, root_threshold: 1,
 *   keys: [], statements: [], revoked: [],
 * };
 * if (expiringWithin(status, 7).length !== 0) throw new Error();
 * ```
 */
export function expiringWithin(status: KeysStatus, days: number): (KeyRow | StatementRow)[] {
  const limit = Date.parse(status.at) + days * DAY_MS;
  const keys = status.keys.filter((k) =>
    k.state !== "retired" && parseTimestamp(k.valid_until)! <= limit
  );
  const statements = status.statements.filter((s) => parseTimestamp(s.expires_at)! <= limit);
  return [...keys, ...statements];
}

/**
 * Collects the status of every key and statement of a home.
 *
 * @example
 * ```ts ignore
 * const status = await collectKeysStatus({ home: ".saoe", clock: systemClock });
 * ```
 */
export async function collectKeysStatus(
  options: { home: string; clock: Clock },
): Promise<KeysStatus> {
  const ch = await openCeremonyHome({
    home: options.home,
    clock: options.clock,
    allowExpired: true,
  });
  const now = options.clock.now();
  const home = ch.home.root;
  const renew = (what: string) => `saoe keys renew ${what} --home ${home}`;
  const keys: KeyRow[] = [];
  const onHost = new Set<string>();
  for (const seed of await ch.keys.loadDispatchers()) {
    onHost.add(toHex((await SigningKey.fromSeed(seed)).publicKey));
    seed.fill(0);
  }
  const rootUntil = parseTimestamp(ch.root.expires_at)!;
  for (const key of ch.root.keys) {
    keys.push({
      role: "dispatcher",
      subject: `root v${ch.root.version}`,
      keyid: key.keyid,
      valid_from: ch.root.issued_at,
      valid_until: ch.root.expires_at,
      state: rootUntil > now ? "current" : "retired",
      days_left: daysLeft(rootUntil, now),
      level: expiryLevel(rootUntil, now),
      on_host: onHost.has(toHex(key.publicKey)),
    });
  }
  const revoked: string[] = [];
  for (const agent of ch.directoryPayload.agents) {
    if (agent.keys.every((k) => parseTimestamp(k.valid_until)! <= now)) revoked.push(agent.agent);
    for (const key of agent.keys) {
      const from = parseTimestamp(key.valid_from)!;
      const until = parseTimestamp(key.valid_until)!;
      const state = now < from ? "future" : now < until ? "current" : "retired";
      keys.push({
        role: agent.agent === SUPERVISOR_ID ? "supervisor" : "agent",
        subject: agent.agent,
        keyid: key.keyid,
        valid_from: key.valid_from,
        valid_until: key.valid_until,
        state,
        days_left: daysLeft(until, now),
        level: state === "retired" ? "retired" : expiryLevel(until, now),
      });
    }
  }
  const statements: StatementRow[] = [];
  const add = (row: Omit<StatementRow, "days_left" | "level">) => {
    const until = parseTimestamp(row.expires_at)!;
    statements.push({ ...row, days_left: daysLeft(until, now), level: expiryLevel(until, now) });
  };
  add({
    kind: "root",
    name: "trust root",
    version: ch.root.version,
    issued_at: ch.root.issued_at,
    expires_at: ch.root.expires_at,
    renew: renew("root"),
  });
  add({
    kind: "directory",
    name: "agent key directory",
    version: ch.directoryPayload.version,
    issued_at: ch.directoryPayload.issued_at,
    expires_at: ch.directoryPayload.expires_at,
    renew: renew("directory"),
  });
  const vault = await readVaultState(ch, { allowExpired: true });
  for (const [agent, capset] of vault.capsets) {
    add({
      kind: "capset",
      name: agent,
      version: capset.version,
      issued_at: capset.issued_at,
      expires_at: capset.expires_at,
      renew: renew("capsets"),
    });
  }
  for (const t of vault.templates) {
    add({
      kind: "template_manifest",
      name: `${t.id}@${t.version}`,
      version: t.version,
      issued_at: t.manifest.issued_at,
      expires_at: t.manifest.expires_at,
      renew: renew("manifests"),
    });
  }
  add({
    kind: "tool_manifest",
    name: "tool manifest",
    version: vault.toolManifest.version,
    issued_at: vault.toolManifest.issued_at,
    expires_at: vault.toolManifest.expires_at,
    renew: renew("tools"),
  });
  return {
    at: new Date(now).toISOString(),
    root_version: ch.root.version,
    root_threshold: ch.root.threshold,
    keys,
    statements,
    revoked,
  };
}
