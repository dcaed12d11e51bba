/**
 * One pass over a ledger for the supervisor's own records of some event types
 * (the trust floor's `trust_versions`, the `operator_action` request ids). The
 * supervisor's events are encoded by {@linkcode encodeEvent}, which writes
 * `type` first, so a record is decoded only when its bytes start with one of the
 * types asked for; records that do not decode, or that name another agent, are
 * skipped (an agent cannot report these types: `report_line.ts` refuses them).
 *
 * @module
 */
import { utf8 } from "../../primitives/crypto/bytes.ts";
import { SUPERVISOR_ID } from "../home/layout.ts";
import { type AuditEvent, decodeEvent, type EventType } from "./events.ts";
import { type Ledger, MAX_READ } from "./ledger.ts";

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.byteLength < prefix.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/**
 * Calls `visit` with every supervisor event of `types` after `afterSeq`, in
 * order; returns the last seq read.
 *
 * @example
 * ```ts
 * import { scanSupervisorEvents } from "./event_scan.ts";
 * import { buildEvent, encodeEvent } from "./events.ts";
 * import { openLedger } from "./ledger.ts";
 * const dir = await Deno.makeTempDir();
 * const ledger = await openLedger({ path: `${dir}/ledger.db` });
 * ledger.append([encodeEvent(buildEvent({ type: "key_rotated", agent: "supervisor" }))]);
 * let seen = 0;
 * scanSupervisorEvents(ledger, ["key_rotated"], () => seen++);
 * ledger.close();
 * if (seen !== 1) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function scanSupervisorEvents(
  ledger: Pick<Ledger, "read">,
  types: readonly EventType[],
  visit: (event: AuditEvent, seq: number) => void,
  afterSeq = 0,
): number {
  const prefixes = types.map((type) => utf8(`{"type":${JSON.stringify(type)},`));
  let last = afterSeq;
  for (;;) {
    const records = ledger.read({ afterSeq: last, limit: MAX_READ });
    if (records.length === 0) return last;
    for (const record of records) {
      last = record.seq;
      if (!prefixes.some((p) => startsWith(record.bytes, p))) continue;
      let event: AuditEvent;
      try {
        event = decodeEvent(record.bytes);
      } catch {
        continue;
      }
      if (event.agent !== SUPERVISOR_ID || !types.includes(event.type)) continue;
      visit(event, record.seq);
    }
  }
}
