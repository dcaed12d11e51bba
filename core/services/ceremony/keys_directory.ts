/**
 * The next version of the agent key directory, as a ceremony builds it: same
 * agents and keys unless a change says otherwise, version + 1 (so the supervisor
 * and every agent record it and refuse the older one as a `rollback`), a fresh
 * validity window, signed by a threshold of the dispatcher keys in force.
 *
 * @module
 */
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { signDirectory } from "../../domain/trust/directory.ts";
import {
  decodeDirectoryPayload,
  type DirectoryAgent,
  type DirectoryKey,
  type DirectoryPayload,
  MAX_AGENT_KEYS,
} from "../../domain/trust/directory_payload.ts";
import { writeDirectoryFile } from "../../domain/trust/files.ts";
import { parseTimestamp } from "../../primitives/time/timestamp.ts";
import type { CeremonyHome } from "./keys_home.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

/** Options for {@linkcode nextDirectory}. */
export interface NextDirectoryOptions {
  nowMs: number;
  /** Validity of the directory statement in days. */
  validityDays: number;
  /** Replaces the keys of one agent (return the new list). */
  change?: { agent: string; keys(current: readonly DirectoryKey[]): DirectoryKey[] };
  /** Give each agent's newest key a fresh window of this many days (a renewal). */
  renewKeysDays?: number;
}

/**
 * Builds directory version N+1 from version N.
 *
 * @example
 * ```ts
 * import { nextDirectory } from "./keys_directory.ts";
 * const next = nextDirectory({
 *   version: 4,
 *   issued_at: "2026-01-01T00:00:00Z",
 *   expires_at: "2026-02-01T00:00:00Z",
 *   agents: [{ agent: "planner", keys: [] }],
 * }, { nowMs: Date.parse("2026-01-15T00:00:00Z"), validityDays: 90 });
 * if (next.version !== 5 || next.expires_at !== "2026-04-15T00:00:00.000Z") throw new Error();
 * ```
 */
export function nextDirectory(
  current: DirectoryPayload,
  options: NextDirectoryOptions,
): DirectoryPayload {
  let agents: DirectoryAgent[] = current.agents.map((a) => {
    if (options.change === undefined || a.agent !== options.change.agent) {
      return { agent: a.agent, keys: a.keys.map((k) => ({ ...k })) };
    }
    return { agent: a.agent, keys: options.change.keys(a.keys) };
  });
  if (options.renewKeysDays !== undefined) {
    agents = renewNewestKeys(agents, options.nowMs, options.renewKeysDays);
  }
  return decodeDirectoryPayload({
    version: current.version + 1,
    issued_at: formatTimestamp(options.nowMs),
    expires_at: formatTimestamp(options.nowMs + options.validityDays * DAY_MS),
    agents,
  }, "$");
}

/**
 * Gives the newest key of every agent (its current key: a rotation lists the new
 * key last-issued) a fresh window from `nowMs`, for `saoe keys renew directory`;
 * older keys keep their closed windows, and an agent with no key stays revoked.
 *
 * @example
 * ```ts
 * import { renewNewestKeys } from "./keys_directory.ts";
 * const [agent] = renewNewestKeys([{ agent: "planner", keys: [{
 *   keyid: "k", public_key: new Uint8Array(32).fill(1).toBase64(), age_recipient: "age1x",
 *   valid_from: "2026-01-01T00:00:00.000Z", valid_until: "2026-02-01T00:00:00.000Z",
 * }] }], Date.parse("2026-03-01T00:00:00.000Z"), 10);
 * if (agent!.keys[0]!.valid_until !== "2026-03-11T00:00:00.000Z") throw new Error();
 * ```
 */
export function renewNewestKeys(
  agents: readonly DirectoryAgent[],
  nowMs: number,
  validityDays: number,
): DirectoryAgent[] {
  return agents.map((a) => {
    const newest = a.keys.reduce<DirectoryKey | undefined>(
      (best, k) =>
        best === undefined || parseTimestamp(k.valid_from)! > parseTimestamp(best.valid_from)!
          ? k
          : best,
      undefined,
    );
    return {
      agent: a.agent,
      keys: a.keys.map((k) =>
        k === newest
          ? { ...k, valid_until: formatTimestamp(nowMs + validityDays * DAY_MS) }
          : { ...k }
      ),
    };
  });
}

/**
 * Closes every key window still open at `nowMs` (`valid_until = now`) and keeps
 * the keys listed, so a late signature by one is told apart as `revoked_key`.
 * The oldest retired keys are dropped when the list would outgrow `room` entries.
 *
 * @example
 * ```ts
 * import { retireKeys } from "./keys_directory.ts";
 * const keys = retireKeys([{
 *   keyid: "k", public_key: new Uint8Array(32).fill(1).toBase64(), age_recipient: "age1x",
 *   valid_from: "2026-01-01T00:00:00Z", valid_until: "2027-01-01T00:00:00Z",
 * }], Date.parse("2026-03-01T00:00:00Z"), 15);
 * if (keys[0]!.valid_until !== "2026-03-01T00:00:00.000Z") throw new Error();
 * ```
 */
export function retireKeys(
  keys: readonly DirectoryKey[],
  nowMs: number,
  room: number = MAX_AGENT_KEYS - 1,
): DirectoryKey[] {
  const retired = keys.map((k) => {
    const from = parseTimestamp(k.valid_from)!;
    const until = parseTimestamp(k.valid_until)!;
    if (until <= nowMs) return { ...k };
    // a key whose window has not opened yet is closed one millisecond after it opens
    const end = Math.max(nowMs, from + 1);
    return { ...k, valid_until: formatTimestamp(end) };
  });
  retired.sort((a, b) => parseTimestamp(b.valid_until)! - parseTimestamp(a.valid_until)!);
  return retired.slice(0, Math.max(0, room));
}

/** Signs `payload` with `signers` and replaces `trust/directory.json` atomically. */
export async function writeDirectory(
  ch: CeremonyHome,
  payload: DirectoryPayload,
  signers: readonly SigningKey[],
): Promise<void> {
  await writeDirectoryFile(ch.home.trust, await signDirectory({ payload, signers }));
}
