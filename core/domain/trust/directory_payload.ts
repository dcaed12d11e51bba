/**
 * The agent key directory payload (`application/vnd.saoe.directory.v1+json`):
 * each agent's Ed25519 public keys and age recipients with validity windows.
 *
 * The decoder refuses unknown fields, an agent listed twice, a key id listed twice
 * for one agent, and one public key listed twice anywhere (a key belongs to
 * exactly one identity: were it listed under two agents, one could sign as the
 * other).
 *
 * @module
 */
import { toHex } from "../../primitives/crypto/bytes.ts";
import { agentId, MAX_VERSION } from "../../primitives/ids/patterns.ts";
import { arr, DecodeError, int, obj, str } from "../../primitives/json/decode.ts";
import { parseTimestamp, timestamp } from "../../primitives/time/timestamp.ts";
import { keyIdLabel, publicKeyB64, publicKeyBytes } from "./_keys.ts";

/** age X25519 recipient: `age1` and 58 bech32 characters. */
export const AGE_RECIPIENT_RE = /^age1[0-9a-z]{58}$/;
/** Most agents a directory lists. */
export const MAX_DIRECTORY_AGENTS = 256;
/** Most keys one agent may hold at once (current and retired). */
export const MAX_AGENT_KEYS = 16;

/** One key of an agent, valid in `[valid_from, valid_until)`. */
export interface DirectoryKey {
  keyid: string;
  /** Canonical base64 of the raw 32-byte Ed25519 public key. */
  public_key: string;
  age_recipient: string;
  valid_from: string;
  valid_until: string;
}

/** One agent and its keys. */
export interface DirectoryAgent {
  agent: string;
  keys: DirectoryKey[];
}

/** The directory payload. */
export interface DirectoryPayload {
  version: number;
  issued_at: string;
  expires_at: string;
  agents: DirectoryAgent[];
}

const shape = obj({
  version: int(1, MAX_VERSION),
  issued_at: timestamp,
  expires_at: timestamp,
  agents: arr(
    obj({
      agent: agentId,
      keys: arr(
        obj({
          keyid: keyIdLabel,
          public_key: publicKeyB64,
          age_recipient: str({
            pattern: AGE_RECIPIENT_RE,
            maxLength: 62,
            what: "an age X25519 recipient (age1…)",
          }),
          valid_from: timestamp,
          valid_until: timestamp,
        }),
        MAX_AGENT_KEYS,
      ),
    }),
    MAX_DIRECTORY_AGENTS,
  ),
});

/**
 * Decodes a directory payload strictly.
 *
 * @example
 * ```ts
 * import { decodeDirectoryPayload } from "./directory_payload.ts";
 * const dir = decodeDirectoryPayload({
 *   version: 1,
 *   issued_at: "2026-01-01T00:00:00Z",
 *   expires_at: "2027-01-01T00:00:00Z",
 *   agents: [{ agent: "planner", keys: [] }],
 * }, "$");
 * if (dir.agents.length !== 1) throw new Error();
 * ```
 */
export function decodeDirectoryPayload(value: unknown, path: string): DirectoryPayload {
  const dir = shape(value, path);
  if (parseTimestamp(dir.expires_at)! <= parseTimestamp(dir.issued_at)!) {
    throw new DecodeError(`${path}.expires_at`, "a time after issued_at");
  }
  const agents = new Set<string>();
  const publicKeys = new Set<string>();
  dir.agents.forEach((agent, i) => {
    const at = `${path}.agents[${i}]`;
    if (agents.has(agent.agent)) {
      throw new DecodeError(`${at}.agent`, "an agent not already listed");
    }
    agents.add(agent.agent);
    const keyids = new Set<string>();
    agent.keys.forEach((key, j) => {
      const keyAt = `${at}.keys[${j}]`;
      if (keyids.has(key.keyid)) {
        throw new DecodeError(`${keyAt}.keyid`, "a key id not already listed for this agent");
      }
      keyids.add(key.keyid);
      const hex = toHex(publicKeyBytes(key.public_key, `${keyAt}.public_key`));
      if (publicKeys.has(hex)) {
        throw new DecodeError(`${keyAt}.public_key`, "a public key not already listed");
      }
      publicKeys.add(hex);
      if (parseTimestamp(key.valid_until)! <= parseTimestamp(key.valid_from)!) {
        throw new DecodeError(`${keyAt}.valid_until`, "a time after valid_from");
      }
    });
  });
  return dir;
}
