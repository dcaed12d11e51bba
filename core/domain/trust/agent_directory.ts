/**
 * The verified agent key directory as the rest of the core reads it: which
 * Ed25519 keys and age recipients an agent holds at a given moment. A key counts
 * only inside its window `[valid_from, valid_until)`; removing a key from the
 * directory, or letting its window end, revokes it.
 *
 * @module
 */
import type { PublicKeyEntry } from "../../primitives/dsse/types.ts";
import { SaoeError } from "../../primitives/errors.ts";
import { parseTimestamp } from "../../primitives/time/timestamp.ts";
import type { SenderKeyLookup, SenderKeys } from "./sender_keys.ts";
import { publicKeyBytes } from "./_keys.ts";
import type { DirectoryPayload } from "./directory_payload.ts";

interface WindowedKey {
  entry: PublicKeyEntry;
  ageRecipient: string;
  from: number;
  until: number;
}

/**
 * Lookup of agents' keys in a directory whose signature, shape and freshness have
 * already been verified (build it with `verifyDirectory`).
 *
 * @example
 * ```ts
 * import { AgentDirectory } from "./agent_directory.ts";
 * const dir = new AgentDirectory({
 *   version: 1,
 *   issued_at: "2026-01-01T00:00:00Z",
 *   expires_at: "2027-01-01T00:00:00Z",
 *   agents: [{ agent: "planner", keys: [] }],
 * });
 * if (dir.senderKeys("planner", Date.now()).status !== "revoked") throw new Error();
 * if (dir.senderKeys("intake", Date.now()).status !== "unknown") throw new Error();
 * ```
 */
export class AgentDirectory implements SenderKeyLookup {
  #agents = new Map<string, WindowedKey[]>();
  /** Directory version. */
  readonly version: number;
  /** When the directory statement itself expires. */
  readonly expires_at: string;

  /** Indexes a decoded, verified directory payload. */
  constructor(payload: DirectoryPayload) {
    this.version = payload.version;
    this.expires_at = payload.expires_at;
    for (const agent of payload.agents) {
      this.#agents.set(
        agent.agent,
        agent.keys.map((key) => ({
          entry: { keyid: key.keyid, publicKey: publicKeyBytes(key.public_key, "public_key") },
          ageRecipient: key.age_recipient,
          from: parseTimestamp(key.valid_from)!,
          until: parseTimestamp(key.valid_until)!,
        })),
      );
    }
  }

  /** Keys of `agent` valid at `nowMs` (`unknown`, `revoked` or `ok`). */
  senderKeys(agent: string, nowMs: number): SenderKeys {
    const keys = this.#agents.get(agent);
    if (keys === undefined) return { status: "unknown" };
    const current: PublicKeyEntry[] = [];
    const retired: PublicKeyEntry[] = [];
    for (const key of keys) {
      (inWindow(key, nowMs) ? current : retired).push(key.entry);
    }
    if (current.length === 0) return { status: "revoked", retired };
    return { status: "ok", current, retired };
  }

  /**
   * Keys of `agent` valid at `nowMs`; throws `unknown_sender` when the agent is not
   * listed and `revoked_key` when none of its keys is inside its window.
   */
  currentKeys(agent: string, nowMs: number): readonly PublicKeyEntry[] {
    const keys = this.senderKeys(agent, nowMs);
    if (keys.status === "unknown") {
      throw new SaoeError(
        "unknown_sender",
        `Cannot accept agent ${JSON.stringify(agent.slice(0, 64))}: it is not in the key directory`,
        { agent },
      );
    }
    if (keys.status === "revoked") {
      throw new SaoeError(
        "revoked_key",
        `Cannot accept agent ${JSON.stringify(agent)}: none of its keys is valid now`,
        { agent },
      );
    }
    return keys.current;
  }

  /** Age recipients of `agent`'s keys valid at `nowMs` (empty when none). */
  ageRecipients(agent: string, nowMs: number): string[] {
    const keys = this.#agents.get(agent) ?? [];
    return keys.filter((key) => inWindow(key, nowMs)).map((key) => key.ageRecipient);
  }

  /** The agents listed, sorted. */
  agents(): string[] {
    return [...this.#agents.keys()].sort();
  }
}

function inWindow(key: WindowedKey, nowMs: number): boolean {
  return key.from <= nowMs && nowMs < key.until;
}
