/**
 * The supervisor's side of witnessing: every checkpoint it signs is sent to each
 * configured witness with a consistency proof from the size that witness last
 * cosigned, and once the policy's threshold cosigned it, the cosigned note is
 * stored in the ledger (and in `audit/checkpoint` for operators). A witness that
 * is down or refuses is retried with backoff and shown in the status file; the
 * pipeline keeps working, and the records after the last witnessed checkpoint
 * are visible as the unwitnessed tail.
 *
 * A witness that answers that it has cosigned a larger tree than this ledger
 * holds is the alarm this whole design exists for (someone rolled the ledger
 * back): it is reported at once, every time.
 *
 * @module
 */
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import { formatNote, type NoteSignature, parseNote } from "../../primitives/note/note.ts";
import { systemTimers, type TimerHandle, type Timers } from "../../primitives/time/timers.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { verifyWitnessedCheckpoint } from "../../domain/ledger/checkpoint.ts";
import type { CheckpointWritten, Ledger } from "../../domain/ledger/ledger.ts";
import { addCheckpoint } from "../witness/client.ts";
import type { ConfiguredWitness, HomeWitnessPolicy } from "../witness/policy.ts";

/** How a witness stands, for the status file. */
export interface WitnessState {
  name: string;
  url: string;
  /** `ok`: it cosigned the latest checkpoint sent; `ahead`: it vouches for more than the ledger holds. */
  state: "ok" | "pending" | "unreachable" | "refused" | "ahead";
  /** The size it last cosigned, as far as the supervisor knows. */
  size: number;
  /** The last problem, when not ok. */
  error?: string;
  /** When the state last changed. */
  since: string;
}

/** Options for {@linkcode Witnessing}. */
export interface WitnessingOptions {
  ledger: Pick<Ledger, "consistencyProof" | "recordWitnessed" | "latestWitnessed">;
  policy: HomeWitnessPolicy;
  origin: string;
  logKeys: TrustedKeySet;
  /** The size each witness last cosigned, as asked at start. */
  sizes: ReadonlyMap<string, number>;
  clock: Clock;
  log(line: string): void;
  /** Told when a witness's state changes. */
  onChange?(): void;
  timers?: Timers;
  /** Per request; default 5 s. */
  timeoutMs?: number;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Sends checkpoints to witnesses and keeps what they cosigned. */
export class Witnessing {
  readonly #o: WitnessingOptions;
  readonly #timers: Timers;
  readonly #states = new Map<string, WitnessState>();
  /** The latest checkpoint, until the policy's threshold cosigned it. */
  #latest: CheckpointWritten | undefined;
  #cosigned = new Map<string, NoteSignature[]>();
  #witnessedSize = 0;
  #running: Promise<void> = Promise.resolve();
  #retry: TimerHandle | undefined;
  #retryMs = RETRY_MIN_MS;
  #closed = false;

  /** Starts from what the witnesses said at start. */
  constructor(options: WitnessingOptions) {
    this.#o = options;
    this.#timers = options.timers ?? systemTimers;
    const now = formatTimestamp(options.clock.now());
    for (const w of options.policy.witnesses) {
      const size = options.sizes.get(w.name) ?? 0;
      this.#states.set(w.name, { name: w.name, url: w.url, state: "ok", size, since: now });
    }
    this.#witnessedSize = options.ledger.latestWitnessed()?.treeSize ?? 0;
  }

  /** The largest checkpoint size the policy's threshold of witnesses cosigned. */
  get witnessedSize(): number {
    return this.#witnessedSize;
  }

  /** Each witness's state. */
  states(): WitnessState[] {
    return [...this.#states.values()].map((s) => ({ ...s }));
  }

  /** Sends `checkpoint` to every witness that has not cosigned it (serialised with other sends). */
  submit(checkpoint: CheckpointWritten): Promise<void> {
    if (this.#latest === undefined || checkpoint.treeSize > this.#latest.treeSize) {
      this.#latest = checkpoint;
      this.#cosigned = new Map();
    }
    return this.#schedule();
  }

  #schedule(): Promise<void> {
    const next = this.#running.then(() => this.#round());
    this.#running = next.catch(() => {});
    return next;
  }

  async #round(): Promise<void> {
    const checkpoint = this.#latest;
    if (checkpoint === undefined || this.#closed) return;
    if (checkpoint.treeSize <= this.#witnessedSize) return;
    const pending = this.#o.policy.witnesses.filter((w) => !this.#cosigned.has(w.name));
    await Promise.all(pending.map((w) => this.#ask(w, checkpoint)));
    if (this.#latest !== checkpoint) return; // a newer checkpoint came meanwhile
    const signatures = [...this.#cosigned.values()].flat();
    if (this.#cosigned.size >= this.#o.policy.threshold) {
      const log = parseNote(checkpoint.note);
      const note = formatNote({ text: log.text, signatures: [...log.signatures, ...signatures] });
      await this.#o.ledger.recordWitnessed({ treeSize: checkpoint.treeSize, note });
      this.#witnessedSize = checkpoint.treeSize;
      this.#retryMs = RETRY_MIN_MS;
      this.#clearRetry();
    } else this.#armRetry();
  }

  async #ask(witness: ConfiguredWitness, checkpoint: CheckpointWritten, again = true) {
    const state = this.#states.get(witness.name)!;
    const old = state.size;
    if (old > checkpoint.treeSize) {
      this.#set(witness, {
        state: "ahead",
        error:
          `witness ${witness.name} vouches for ${old} records; this ledger's checkpoint covers ${checkpoint.treeSize}: the ledger was rolled back`,
      });
      return;
    }
    let answer;
    try {
      answer = await addCheckpoint({
        url: witness.url,
        oldSize: old,
        proof: old === 0 ? [] : this.#o.ledger.consistencyProof(old, checkpoint.treeSize),
        note: checkpoint.note,
        timeoutMs: this.#o.timeoutMs ?? 5_000,
      });
    } catch (err: unknown) {
      this.#set(witness, { state: "unreachable", error: describe(err) });
      return;
    }
    if (answer.kind === "conflict") {
      // it knows another size: learn it and try once more from there
      state.size = answer.size;
      if (again && answer.size <= checkpoint.treeSize) {
        await this.#ask(witness, checkpoint, false);
        return;
      }
      this.#set(witness, {
        state: answer.size > checkpoint.treeSize ? "ahead" : "refused",
        error: answer.size > checkpoint.treeSize
          ? `witness ${witness.name} vouches for ${answer.size} records; this ledger's checkpoint covers ${checkpoint.treeSize}: the ledger was rolled back`
          : `witness ${witness.name} answered 409 (it last cosigned ${answer.size})`,
      });
      return;
    }
    if (answer.kind === "refused") {
      this.#set(witness, {
        state: "refused",
        error: `HTTP ${answer.status}: ${answer.message.slice(0, 300)}`,
      });
      return;
    }
    // a cosignature is kept only if it verifies: a witness that signs garbage did not cosign
    try {
      const log = parseNote(checkpoint.note);
      const note = formatNote({
        text: log.text,
        signatures: [...log.signatures, ...answer.signatures],
      });
      await verifyWitnessedCheckpoint(note, {
        origin: this.#o.origin,
        logKeys: this.#o.logKeys,
        policy: { witnesses: [witness], threshold: 1 },
        what: `the cosignature of witness ${witness.name}`,
      });
    } catch (err: unknown) {
      this.#set(witness, { state: "refused", error: describe(err) });
      return;
    }
    state.size = checkpoint.treeSize;
    this.#cosigned.set(
      witness.name,
      answer.signatures.filter((s) => s.name === witness.name),
    );
    this.#set(witness, { state: "ok" });
  }

  #set(witness: ConfiguredWitness, change: Pick<WitnessState, "state"> & { error?: string }) {
    const state = this.#states.get(witness.name)!;
    const changed = state.state !== change.state || state.error !== change.error;
    state.state = change.state;
    if (change.error === undefined) delete state.error;
    else state.error = change.error;
    if (!changed) return;
    state.since = formatTimestamp(this.#o.clock.now());
    if (change.state === "ok") {
      this.#o.log(`supervisor: witness ${witness.name} cosigned size ${state.size}`);
    } else {
      this.#o.log(
        `supervisor: ${
          change.state === "ahead" ? "ALARM: " : ""
        }witness ${witness.name} ${change.state}: ${change.error}`,
      );
    }
    this.#o.onChange?.();
  }

  #armRetry(): void {
    if (this.#retry !== undefined || this.#closed) return;
    this.#retry = this.#timers.setTimeout(() => {
      this.#retry = undefined;
      void this.#schedule();
    }, this.#retryMs);
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
  }

  #clearRetry(): void {
    if (this.#retry !== undefined) this.#timers.clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /** Waits for the sends in flight, then stops retrying. */
  async close(): Promise<void> {
    await this.#running;
    this.#closed = true;
    this.#clearRetry();
  }

  /** For messages: the latest witnessed size and root. */
  describe(): string {
    const latest = this.#o.ledger.latestWitnessed();
    return latest === undefined
      ? "no witnessed checkpoint yet"
      : `witnessed up to ${latest.treeSize}`;
  }
}
