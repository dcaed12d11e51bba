/**
 * `saoe keys rotate AGENT`: a new Ed25519 signing key and age identity for one
 * agent (or the supervisor). The key directory's version N+1 closes the old key's
 * window now (`valid_until` = now) and keeps it listed as retired, so a signature
 * it makes after the switch is refused as `revoked_key` (not as an unknown
 * forgery), and lists the new key from now on. Every vault entry is re-encrypted
 * for the new recipient set (templates to the agents whose capsets name them,
 * each capset to its agent, the supervisor and the agent's peers; capsets are
 * re-signed with fresh windows on the way, their version unchanged), the new
 * secrets replace the old ones in the key store (the old seed is not kept: the
 * directory's public key is all that is needed to tell its signatures apart),
 * and the directory is written last.
 *
 * A running supervisor picks the new directory up (it watches `trust/`, or on
 * SIGHUP) and restarts the agents one at a time; the rotated agent receives its
 * new secrets on its restart. The supervisor's own key (it signs checkpoints and
 * holds the ledger) is rotated only while no pipeline runs.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import type { DirectoryKey } from "../../domain/trust/directory_payload.ts";
import { generateAgeIdentity } from "../../domain/vault/age.ts";
import { openCeremonyHome, requireDispatcherSigners } from "./keys_home.ts";
import { nextDirectory, retireKeys } from "./keys_directory.ts";
import { type KeyEventRecorder, supervisorRunning } from "./keys_audit.ts";
import { beginVaultReissue } from "./vault_reissue.ts";
import { SUPERVISOR_ID } from "../../domain/home/layout.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

/** Options for {@linkcode rotateAgent}. */
export interface RotateAgentOptions {
  /** Dispatcher seeds brought from an offline export (`--dispatcher-key FILE`). */
  dispatcherSeeds?: readonly Uint8Array<ArrayBuffer>[];
  home: string;
  agent: string;
  clock: Clock;
  progress?: (line: string) => void;
}

/** What an agent key rotation did. */
export interface RotateAgentResult {
  agent: string;
  directoryVersion: number;
  /** Key id of the new signing key. */
  keyid: string;
  /** Key ids whose windows were closed now. */
  retired: string[];
  capsets: string[];
  templates: string[];
  recordedBy: KeyEventRecorder;
}

/**
 * Rotates the keys of `agent`.
 *
 * @example
 * ```ts ignore
 * const r = await rotateAgent({ home: ".saoe", agent: "planner", clock: systemClock });
 * console.log(r.keyid);
 * ```
 */
export async function rotateAgent(options: RotateAgentOptions): Promise<RotateAgentResult> {
  const progress = options.progress ?? (() => {});
  const { agent } = options;
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
      `Cannot rotate the keys of ${
        JSON.stringify(agent)
      }: it is not in the agent key directory (agents: ${ch.directory.agents().join(", ")})`,
      { agent },
    );
  }
  if (agent === SUPERVISOR_ID && await supervisorRunning(ch.home)) {
    throw new SaoeError(
      "bad_config",
      "Cannot rotate the supervisor's keys while the pipeline runs: it signs the ledger's checkpoints with them; stop the pipeline first",
      { agent },
    );
  }
  const signers = await requireDispatcherSigners(ch, `rotate the keys of "${agent}"`);
  // read (and verify) everything while the old identities still decrypt it
  using reissue = await beginVaultReissue(ch, "templates");

  const now = options.clock.now();
  const seed = generateSeed();
  const age = await generateAgeIdentity();
  const signing = await SigningKey.fromSeed(seed);
  const newKey: DirectoryKey = {
    keyid: signing.keyid,
    public_key: signing.publicKey.toBase64(),
    age_recipient: age.recipient,
    valid_from: formatTimestamp(now),
    valid_until: formatTimestamp(now + ch.config.validity.agent_key_days * DAY_MS),
  };
  const retired = listed.keys
    .filter((k) => Date.parse(k.valid_until) > now)
    .map((k) => k.keyid);
  const payload = nextDirectory(ch.directoryPayload, {
    nowMs: now,
    validityDays: ch.config.validity.directory_days,
    change: { agent, keys: (keys) => [...retireKeys(keys, now), newKey] },
  });

  await ch.keys.saveAgent({ agent, seed, ageIdentity: age.identity });
  seed.fill(0);
  progress(`New keys for "${agent}": signing key ${signing.keyid}`);
  const written = await reissue.commit({
    signers,
    directory: payload,
    capsets: { bumpVersion: false },
    templates: true,
    onStep: (step, { capsets = [], templates = [] }) => {
      if (step !== "directory") return;
      progress(
        `Directory v${payload.version} written; ${capsets.length} capsets and ${templates.length} templates re-encrypted`,
      );
    },
    event: {
      kind: "agent",
      agent,
      directory_version: payload.version,
      keyid: signing.keyid,
      retired_keyids: retired,
    },
  });
  return {
    agent,
    directoryVersion: payload.version,
    keyid: signing.keyid,
    retired,
    capsets: written.capsets ?? [],
    templates: written.templates ?? [],
    recordedBy: written.recordedBy,
  };
}
