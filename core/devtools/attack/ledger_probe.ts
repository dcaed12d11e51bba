/**
 * Reading the audit ledger of a live pipeline, read-only, while it grows: the
 * attacks mark the head before they try something and then look only at the
 * events appended after the mark.
 *
 * @module
 */
import { type HomeLayout, ledgerPath } from "../../domain/home/layout.ts";
import { type Ledger, openLedger } from "../../domain/ledger/ledger.ts";
import { type AuditEvent, decodeEvent } from "../../domain/ledger/events.ts";

/** An event with its ledger sequence number. */
export interface SeqEvent extends AuditEvent {
  seq: number;
}

/** A read-only view of one home's ledger. */
export class LedgerProbe {
  readonly #path: string;
  #ledger: Ledger | undefined;

  /** Creates a probe of `home`'s ledger; nothing is opened until first use. */
  constructor(home: HomeLayout) {
    this.#path = ledgerPath(home);
  }

  async #open(): Promise<Ledger | undefined> {
    if (this.#ledger !== undefined) return this.#ledger;
    const exists = await Deno.lstat(this.#path).then((i) => i.isFile, () => false);
    if (!exists) return undefined;
    this.#ledger = await openLedger({ path: this.#path, readOnly: true });
    return this.#ledger;
  }

  /** The current head's sequence number (0 for an empty or missing ledger). */
  async mark(): Promise<number> {
    return (await this.#open())?.head().size ?? 0;
  }

  /** Every event after `afterSeq`, in ledger order. */
  async since(afterSeq: number): Promise<SeqEvent[]> {
    const ledger = await this.#open();
    if (ledger === undefined) return [];
    const out: SeqEvent[] = [];
    let after = afterSeq;
    for (;;) {
      const records = ledger.read({ afterSeq: after, limit: 1000 });
      if (records.length === 0) return out;
      for (const r of records) out.push({ ...decodeEvent(r.bytes), seq: r.seq });
      after = records.at(-1)!.seq;
    }
  }

  /** Closes the database. */
  close(): void {
    this.#ledger?.close();
    this.#ledger = undefined;
  }
}
