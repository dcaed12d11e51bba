/**
 * Where a key ceremony's `key_rotated` event goes. The ledger has a single
 * writer: while a supervisor runs it holds the writer lock, and it records
 * `key_rotated` itself when it picks the change up (it compares the trust state
 * before and after, see `core/services/supervisor/reload.ts`). When no pipeline runs the
 * ceremony appends the event itself, holding the same lock, in the supervisor's
 * name (as `saoe audit checkpoint` does) with `detail.recorded_by: "saoe keys"`.
 * The lock decides, not a probe: a supervisor starting in between makes the
 * open fail and the supervisor's own start then sees the new state as given.
 *
 * With it, in the same append, goes a `trust_versions` event
 * (`core/domain/ledger/trust_versions.ts`): the versions of the trust state the
 * ceremony left (verified as the supervisor verifies them) and the key ids
 * revoked so far (those of the ledger's earlier events and the keys this
 * ceremony's directory no longer lists as current), so a ceremony done while
 * the pipeline is stopped raises the ledger's high-water mark too and a copy of
 * the earlier files put back is refused at the next start. A state that does
 * not verify yet (a renewal of part of an expired home) records only the
 * directory version the ceremony wrote.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { type HomeLayout, ledgerPath } from "../../domain/home/layout.ts";
import { buildEvent, encodeEvent } from "../../domain/ledger/events.ts";
import { ledgerWriterRunning, openLedger } from "../../domain/ledger/ledger.ts";
import { SUPERVISOR_ID } from "../../domain/home/layout.ts";
import type { HomeConfig } from "../../domain/home/config.ts";
import type { KeyStore } from "../../domain/keys/keystore.ts";
import { readTrustFloor, trustVersionsEvent } from "../../domain/ledger/trust_versions.ts";
import type { AgentDirectory } from "../../domain/trust/agent_directory.ts";
import { DIRECTORY_VERSION_KEY } from "../../domain/trust/directory.ts";
import { raiseFloor, revokedKeyIds } from "../../domain/trust/trust_floor.ts";
import { MemoryVersionStore } from "../../domain/trust/version_store_memory.ts";
import { verifyTrustState } from "../supervisor/preflight.ts";
import { trustVersionsOf } from "../supervisor/trust_mark.ts";

/** Who records a ceremony's event: the ceremony itself, or the running supervisor. */
export type KeyEventRecorder = "ledger" | "supervisor";

/**
 * True when a process holds the ledger writer lock of `home` (a running
 * supervisor). Opens the lock file read-only and never writes it.
 *
 * @example
 * ```ts
 * import { supervisorRunning } from "./keys_audit.ts";
 * import { homeLayout } from "../../domain/home/layout.ts";
 * const dir = await Deno.makeTempDir();
 * if (await supervisorRunning(homeLayout(dir))) throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export function supervisorRunning(home: HomeLayout): Promise<boolean> {
  return ledgerWriterRunning(ledgerPath(home));
}

/** The trust state a ceremony leaves, for its `trust_versions` event. */
export interface KeyEventTrust {
  config: HomeConfig;
  /** The key store (the supervisor's age identity decrypts the capability sets). */
  keys: KeyStore;
  /** The directory in force before the ceremony. */
  before: AgentDirectory;
  /** The directory in force after it. */
  after: AgentDirectory;
}

/** The versions in force after the ceremony, verified; the directory's alone if they do not verify. */
async function versionsInForce(
  home: HomeLayout,
  trust: KeyEventTrust,
  clock: Clock,
): Promise<Record<string, number>> {
  try {
    const secrets = await trust.keys.loadAgent(SUPERVISOR_ID);
    secrets.seed.fill(0);
    const state = await verifyTrustState({
      home,
      config: trust.config,
      ageIdentity: secrets.ageIdentity,
      clock,
      versionStore: new MemoryVersionStore(),
    });
    return trustVersionsOf(state);
  } catch {
    return { [DIRECTORY_VERSION_KEY]: trust.after.version };
  }
}

/**
 * Appends `key_rotated` with `detail` (and, given `trust`, the `trust_versions`
 * the ceremony leaves) when no supervisor holds the ledger; returns who records it.
 *
 * @example
 * ```ts ignore
 * const by = await recordKeyEvent(home, { kind: "agent", agent: "planner" }, systemClock);
 * ```
 */
export async function recordKeyEvent(
  home: HomeLayout,
  detail: JsonObject,
  clock: Clock,
  trust?: KeyEventTrust,
): Promise<KeyEventRecorder> {
  if (await supervisorRunning(home)) return "supervisor";
  const versions = trust === undefined ? undefined : await versionsInForce(home, trust, clock);
  const revoked = trust === undefined
    ? []
    : await revokedKeyIds(trust.before, trust.after, clock.now());
  let ledger;
  try {
    ledger = await openLedger({ path: ledgerPath(home) });
  } catch (err: unknown) {
    // a supervisor that started between the probe and the open records it instead
    if (await supervisorRunning(home)) return "supervisor";
    throw err instanceof SaoeError ? err : new SaoeError(
      "io_error",
      `Cannot record the key event in ${ledgerPath(home)}: ${
        err instanceof Error ? err.message : String(err)
      }`,
    );
  }
  try {
    const events = [
      encodeEvent(buildEvent({
        type: "key_rotated",
        agent: SUPERVISOR_ID,
        detail: { ...detail, recorded_by: "saoe keys" },
      }, clock)),
    ];
    if (versions !== undefined) {
      // the revoked keys accumulate: those the ledger records already, and this ceremony's
      const floor = raiseFloor(readTrustFloor(ledger), versions, revoked);
      events.push(encodeEvent(trustVersionsEvent(versions, floor, "ceremony", clock, {
        recorded_by: "saoe keys",
      })));
    }
    ledger.append(events);
  } finally {
    ledger.close();
  }
  return "ledger";
}
