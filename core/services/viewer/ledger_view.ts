/**
 * The viewer's read-only window on the audit ledger: opened with
 * `openLedger({readOnly: true})` (never writes, takes no lock, sees committed
 * batches only), reopened when it did not exist yet, and read newest first in
 * pages with filters. A record whose bytes do not decode as an audit event is
 * still shown (as undecodable), never skipped silently: a tampered ledger must
 * look broken, not shorter.
 *
 * @module
 */
import { type Ledger, type LedgerHead, openLedger } from "../../domain/ledger/ledger.ts";
import { type AuditEvent, decodeEvent, type EventType } from "../../domain/ledger/events.ts";
import type { ReasonCode } from "../../primitives/errors.ts";
import { toHex } from "../../primitives/crypto/bytes.ts";
import { EMPTY_ROOT } from "../../primitives/merkle/hash.ts";

/** One ledger record as the viewer shows it. */
export interface AuditRow {
  seq: number;
  /** The decoded event; absent when the bytes do not decode. */
  event?: AuditEvent;
}

/** Filters of the audit trail (all optional, combined with AND). */
export interface AuditFilter {
  session?: string;
  type?: EventType;
  agent?: string;
  reason?: ReasonCode;
}

/** A page of the audit trail, newest first. */
export interface AuditPage {
  rows: AuditRow[];
  /** Pass as `before` for the next (older) page; absent when the start was reached. */
  olderBefore: number | undefined;
  /** Records examined to fill the page. */
  scanned: number;
  head: LedgerHead;
}

/** Most records one page request examines (a rare filter pages on from where it stopped). */
export const MAX_SCAN = 50_000;
const CHUNK = 2_000;

/**
 * Decodes one record, or marks it undecodable.
 *
 * @example
 * ```ts
 * import { toRow } from "./ledger_view.ts";
 * if (toRow(3, new TextEncoder().encode("{not json")).event !== undefined) throw new Error();
 * ```
 */
export function toRow(seq: number, bytes: Uint8Array): AuditRow {
  try {
    return { seq, event: decodeEvent(bytes) };
  } catch {
    return { seq };
  }
}

/**
 * True when `row` passes `filter` (an undecodable row passes only an empty filter).
 *
 * @example
 * ```ts
 * import { matches } from "./ledger_view.ts";
 * const row = { seq: 1, event: { type: "checkpoint" as const, at: "2026-01-01T00:00:00Z", agent: "supervisor" } };
 * if (!matches(row, { agent: "supervisor" }) || matches(row, { type: "published" })) throw new Error();
 * ```
 */
export function matches(row: AuditRow, filter: AuditFilter): boolean {
  const e = row.event;
  if (e === undefined) {
    return filter.session === undefined && filter.type === undefined &&
      filter.agent === undefined && filter.reason === undefined;
  }
  return (filter.session === undefined || e.session_id === filter.session) &&
    (filter.type === undefined || e.type === filter.type) &&
    (filter.agent === undefined || e.agent === filter.agent) &&
    (filter.reason === undefined || e.reason === filter.reason);
}

/** Options for {@linkcode LedgerView.page}. */
export interface PageOptions {
  filter: AuditFilter;
  /** Only records with a seq below this; default: from the head. */
  before?: number;
  limit: number;
  /**
   * The seqs of the filtered session, ascending, when an index knows them: the
   * page then reads only those records.
   */
  sessionSeqs?: readonly number[];
}

/** A lazily opened read-only ledger. */
export class LedgerView {
  readonly #path: string;
  #ledger: Ledger | undefined;

  /** A view of the ledger database at `path` (opened on first use). */
  constructor(path: string) {
    this.#path = path;
  }

  /** The ledger database file this view reads. */
  get path(): string {
    return this.#path;
  }

  async #open(): Promise<Ledger | undefined> {
    if (this.#ledger !== undefined) return this.#ledger;
    const exists = await Deno.lstat(this.#path).then(() => true, () => false);
    if (!exists) return undefined;
    this.#ledger = await openLedger({ path: this.#path, readOnly: true });
    return this.#ledger;
  }

  /** The head; size 0 while there is no ledger yet. */
  async head(): Promise<LedgerHead> {
    const ledger = await this.#open();
    return ledger?.head() ?? { size: 0, hash: "0".repeat(64), root: toHex(EMPTY_ROOT) };
  }

  /** Records after `afterSeq`, ascending, at most `limit`. */
  async after(afterSeq: number, limit: number): Promise<AuditRow[]> {
    const ledger = await this.#open();
    if (ledger === undefined) return [];
    return ledger.read({ afterSeq, limit }).map((r) => toRow(r.seq, r.bytes));
  }

  /** A page of matching records, newest first. */
  async page(options: PageOptions): Promise<AuditPage> {
    const head = await this.head();
    const start = Math.min(options.before ?? head.size + 1, head.size + 1);
    if (options.sessionSeqs !== undefined) return await this.#sessionPage(options, start, head);
    const rows: AuditRow[] = [];
    let upper = start; // exclusive
    let scanned = 0;
    while (upper > 1 && rows.length < options.limit && scanned < MAX_SCAN) {
      const from = Math.max(1, upper - CHUNK);
      const chunk = await this.after(from - 1, upper - from);
      scanned += chunk.length;
      for (let i = chunk.length - 1; i >= 0; i--) {
        const row = chunk[i]!;
        if (matches(row, options.filter)) {
          rows.push(row);
          if (rows.length === options.limit) {
            upper = row.seq;
            break;
          }
        }
      }
      if (rows.length < options.limit) upper = from;
    }
    return { rows, olderBefore: upper > 1 ? upper : undefined, scanned, head };
  }

  async #sessionPage(options: PageOptions, start: number, head: LedgerHead): Promise<AuditPage> {
    const seqs = options.sessionSeqs!;
    const rows: AuditRow[] = [];
    let i = seqs.length - 1;
    while (i >= 0 && seqs[i]! >= start) i--;
    let scanned = 0;
    let upper = start;
    for (; i >= 0 && rows.length < options.limit; i--) {
      const seq = seqs[i]!;
      const [row] = await this.after(seq - 1, 1);
      scanned++;
      upper = seq;
      if (row !== undefined && row.seq === seq && matches(row, options.filter)) rows.push(row);
    }
    return { rows, olderBefore: i >= 0 ? upper : undefined, scanned, head };
  }

  /** Closes the database. */
  close(): void {
    this.#ledger?.close();
    this.#ledger = undefined;
  }
}
