/**
 * The `trust_versions` event: the supervisor's record, in the witnessed ledger,
 * of the trust state in force (docs/design.md sections 2 and 7). It is appended
 * when the supervisor starts on a verified state, after every reload it applies,
 * and by a key ceremony done while no pipeline runs (with its `key_rotated`).
 * Its `detail` is
 * `{cause, versions: {root, directory, "capset:<agent>", "template:<id>", tool_manifest}, revoked_keyids}`.
 *
 * {@linkcode readTrustFloor} folds every such event of a ledger into the
 * {@linkcode TrustFloor}: per kind the highest version of any of them, and the
 * union of their revoked key ids. A malformed entry of one event is skipped
 * alone, and an appended event can only raise the floor: whoever can write the
 * home can append to the ledger after its witnessed part, but cannot remove
 * what the witnesses vouch for.
 *
 * @module
 */
import { SHA256_HEX_RE } from "../../primitives/ids/patterns.ts";
import { MAX_VERSION } from "../../primitives/ids/patterns.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { SUPERVISOR_ID } from "../home/layout.ts";
import { raiseFloor, type TrustFloor } from "../trust/trust_floor.ts";
import { EMPTY_FLOOR } from "../trust/trust_floor.ts";
import { VERSION_KEY_RE } from "../trust/version_store_file.ts";
import { scanSupervisorEvents } from "./event_scan.ts";
import { type AuditEvent, buildEvent } from "./events.ts";
import type { Ledger } from "./ledger.ts";

/** Why a `trust_versions` event was written. */
export type TrustVersionsCause = "start" | "reload" | "ceremony";

/** Most revoked key ids one event lists (the newest; earlier events keep the rest). */
export const MAX_EVENT_REVOKED = 512;

/**
 * The `trust_versions` event of `versions` in force, listing the revoked key
 * ids of `floor` (accumulated so far, newest last).
 *
 * @example
 * ```ts
 * import { trustVersionsEvent } from "./trust_versions.ts";
 * const e = trustVersionsEvent({ root: 1, directory: 2 }, { versions: {}, revoked: [] }, "start");
 * if (e.type !== "trust_versions" || e.agent !== "supervisor") throw new Error();
 * ```
 */
export function trustVersionsEvent(
  versions: Readonly<Record<string, number>>,
  floor: TrustFloor,
  cause: TrustVersionsCause,
  clock?: Clock,
  extra: JsonObject = {},
): AuditEvent {
  const sorted: Record<string, number> = {};
  for (const key of Object.keys(versions).sort()) {
    Object.defineProperty(sorted, key, {
      value: versions[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return buildEvent({
    type: "trust_versions",
    agent: SUPERVISOR_ID,
    detail: {
      cause,
      versions: sorted,
      revoked_keyids: floor.revoked.slice(-MAX_EVENT_REVOKED),
      ...extra,
    },
  }, clock);
}

/** Raises `floor` by what one `trust_versions` event records (malformed entries skipped). */
export function floorWithEvent(floor: TrustFloor, event: AuditEvent): TrustFloor {
  if (event.type !== "trust_versions" || event.detail === undefined) return floor;
  const versions: Record<string, number> = {};
  const recorded = event.detail.versions;
  if (recorded !== null && typeof recorded === "object" && !Array.isArray(recorded)) {
    for (const [key, value] of Object.entries(recorded)) {
      if (!VERSION_KEY_RE.test(key)) continue;
      if (typeof value !== "number" || !Number.isSafeInteger(value)) continue;
      if (value < 0 || value > MAX_VERSION) continue;
      Object.defineProperty(versions, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  const ids = Array.isArray(event.detail.revoked_keyids) ? event.detail.revoked_keyids : [];
  const revoked = ids.filter((id): id is string =>
    typeof id === "string" && SHA256_HEX_RE.test(id)
  );
  return raiseFloor(floor, versions, revoked);
}

/**
 * The floor of every `trust_versions` event in `ledger` (read it after the
 * ledger verified against its witnesses).
 *
 * @example
 * ```ts
 * import { readTrustFloor, trustVersionsEvent } from "./trust_versions.ts";
 * import { encodeEvent } from "./events.ts";
 * import { openLedger } from "./ledger.ts";
 * const dir = await Deno.makeTempDir();
 * const ledger = await openLedger({ path: `${dir}/ledger.db` });
 * const none = { versions: {}, revoked: [] };
 * ledger.append([
 *   encodeEvent(trustVersionsEvent({ directory: 3 }, none, "start")),
 *   encodeEvent(trustVersionsEvent({ directory: 2 }, none, "start")),
 * ]);
 * if (readTrustFloor(ledger).versions.directory !== 3) throw new Error();
 * ledger.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function readTrustFloor(ledger: Pick<Ledger, "read">): TrustFloor {
  let floor = EMPTY_FLOOR;
  scanSupervisorEvents(ledger, ["trust_versions"], (event) => {
    floor = floorWithEvent(floor, event);
  });
  return floor;
}
