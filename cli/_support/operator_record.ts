/**
 * How a command that records an operator action (`saoe quarantine`, `saoe
 * publish`) says where it was recorded: the ledger record of its
 * `operator_action` event and who appended it.
 *
 * @module
 */
import type { OperatorActionRecord } from "../../core/services/ceremony/operator_audit.ts";
import type { OwnRecordWitnessing } from "./witness_own_record.ts";

/** The JSON fields that say where the action was recorded. */
export function recordedJson(
  r: OperatorActionRecord,
  witnessing?: OwnRecordWitnessing,
): Record<string, unknown> {
  return {
    recorded_in: r.ledger,
    recorded_seq: r.seq,
    recorded_by: r.recordedBy,
    ...(r.requestId !== undefined ? { request_id: r.requestId } : {}),
    ...(witnessing !== undefined ? { witnessing } : {}),
  };
}

/** The line that says where the action was recorded. */
export function recordedLine(r: OperatorActionRecord): string {
  const by = r.recordedBy === "supervisor" ? "by the running supervisor" : "no pipeline running";
  return `Recorded in the audit ledger: operator_action, record ${r.seq} of ${r.ledger} (${by})`;
}
