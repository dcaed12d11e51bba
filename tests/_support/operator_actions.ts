/**
 * The `operator_action` events of a home's audit ledger, in order: what the
 * CLI tests read to check that `saoe quarantine` and `saoe publish` recorded
 * an action (read-only; works while a supervisor runs).
 *
 * @module
 */
import { type HomeLayout, ledgerPath } from "../../core/domain/home/layout.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import { scanSupervisorEvents } from "../../core/domain/ledger/event_scan.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";

/** Every supervisor event of `types` in the ledger of `home` (none when it has no ledger). */
export async function supervisorEvents(
  home: HomeLayout,
  types: Parameters<typeof scanSupervisorEvents>[1],
): Promise<AuditEvent[]> {
  const exists = await Deno.lstat(ledgerPath(home)).then(() => true, () => false);
  if (!exists) return [];
  const ledger = await openLedger({ path: ledgerPath(home), readOnly: true });
  try {
    const events: AuditEvent[] = [];
    scanSupervisorEvents(ledger, types, (event) => events.push(event));
    return events;
  } finally {
    ledger.close();
  }
}

/** Every `operator_action` event in the ledger of `home`. */
export function operatorActions(home: HomeLayout): Promise<AuditEvent[]> {
  return supervisorEvents(home, ["operator_action"]);
}
