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
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { type HomeLayout, ledgerPath } from "../../domain/home/layout.ts";
import { buildEvent, encodeEvent } from "../../domain/ledger/events.ts";
import { ledgerWriterRunning, openLedger } from "../../domain/ledger/ledger.ts";
import { SUPERVISOR_ID } from "../../domain/home/layout.ts";

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

/**
 * Appends `key_rotated` with `detail` when no supervisor holds the ledger;
 * returns who records it.
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
): Promise<KeyEventRecorder> {
  if (await supervisorRunning(home)) return "supervisor";
  let ledger;
  try {
    ledger = await openLedger({ path: ledgerPath(home), clock });
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
    ledger.append([
      encodeEvent(buildEvent({
        type: "key_rotated",
        agent: SUPERVISOR_ID,
        detail: { ...detail, recorded_by: "saoe keys" },
      }, clock)),
    ]);
  } finally {
    ledger.close();
  }
  return "ledger";
}
