/**
 * `saoe keys revoke AGENT`: removes every key of one agent from the agent key
 * directory (version N+1; the agent stays listed with no key, so its envelopes
 * are refused as `revoked_key` by every receiver that loads the directory),
 * re-encrypts the vault so the agent's identity is no longer a recipient (a
 * template no other agent reads keeps its old ciphertext), and deletes the
 * agent's secrets from the key store. The directory is written last.
 *
 * A running supervisor, on the directory change, stops the revoked agent at once
 * (it is not restarted, and its status reads `revoked`) and restarts every other
 * agent so each loads the new directory; until an agent has restarted it still
 * holds the old one, which is why the supervisor restarts the revoked agent's
 * receivers first. `saoe keys rotate AGENT` re-admits a revoked agent with new
 * keys. The supervisor itself cannot be revoked (it signs the ledger).
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { openCeremonyHome, requireDispatcherSigners } from "./keys_home.ts";
import { nextDirectory } from "./keys_directory.ts";
import type { KeyEventRecorder } from "./keys_audit.ts";
import { beginVaultReissue } from "./vault_reissue.ts";
import { SUPERVISOR_ID } from "../../domain/home/layout.ts";
import { AGENT_ID_RE, assertIdentifier } from "../../primitives/ids/patterns.ts";

/** Options for {@linkcode revokeAgent}. */
export interface RevokeAgentOptions {
  /** Dispatcher seeds brought from an offline export (`--dispatcher-key FILE`). */
  dispatcherSeeds?: readonly Uint8Array<ArrayBuffer>[];
  home: string;
  agent: string;
  clock: Clock;
  progress?: (line: string) => void;
}

/** What a revocation did. */
export interface RevokeAgentResult {
  agent: string;
  directoryVersion: number;
  /** Key ids removed from the directory. */
  removed: string[];
  recordedBy: KeyEventRecorder;
}

/**
 * Revokes every key of `agent`.
 *
 * @example
 * ```ts ignore
 * const r = await revokeAgent({ home: ".saoe", agent: "planner", clock: systemClock });
 * ```
 */
export async function revokeAgent(options: RevokeAgentOptions): Promise<RevokeAgentResult> {
  const progress = options.progress ?? (() => {});
  const agent = assertIdentifier(options.agent, AGENT_ID_RE, "agent id");
  if (agent === SUPERVISOR_ID) {
    throw new SaoeError(
      "bad_config",
      'Cannot revoke the supervisor: it holds the ledger and signs its checkpoints (rotate its keys with "saoe keys rotate supervisor" instead)',
      { agent },
    );
  }
  const ch = await openCeremonyHome({
    home: options.home,
    clock: options.clock,
    allowExpired: true,
    ...(options.dispatcherSeeds !== undefined ? { dispatcherSeeds: options.dispatcherSeeds } : {}),
  });
  const listed = ch.directoryPayload.agents.find((a) => a.agent === agent);
  if (listed === undefined) {
    throw new SaoeError(
      "unknown_sender",
      `Cannot revoke ${JSON.stringify(agent)}: it is not in the agent key directory`,
      { agent },
    );
  }
  const signers = await requireDispatcherSigners(ch, `revoke "${agent}"`);
  using reissue = await beginVaultReissue(ch, "templates");
  const now = options.clock.now();
  const payload = nextDirectory(ch.directoryPayload, {
    nowMs: now,
    validityDays: ch.config.validity.directory_days,
    change: { agent, keys: () => [] },
  });
  const removed = listed.keys.map((k) => k.keyid);
  const { recordedBy } = await reissue.commit({
    signers,
    directory: payload,
    capsets: { bumpVersion: false },
    templates: true,
    // once no directory lists a key for it, its secrets go
    afterDirectory: async () => {
      await Deno.remove(join(ch.keys.dir, "agents", `${agent}.age`)).catch((err: unknown) => {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
      progress(`Revoked "${agent}": directory v${payload.version} lists no key for it`);
    },
    event: {
      kind: "revoked",
      agent,
      directory_version: payload.version,
      removed_keyids: removed,
    },
  });
  return { agent, directoryVersion: payload.version, removed, recordedBy };
}
