/**
 * Keeps the ledger in causal order across agents. Each agent reports on its own
 * pipe and the supervisor verifies each line asynchronously, so a receiver's
 * `validated` can reach the supervisor before the sender's `forwarded` for the
 * same envelope, although it happened after it.
 *
 * Events of one agent are written in the order that agent reported them. An
 * event that refers to an envelope received from a peer (`validated`,
 * `rejected`) waits, with everything its agent reported after it, until that
 * envelope's `forwarded` is written, or for at most `holdMs` (an envelope planted
 * in an inbox by hand or by an attacker has no `forwarded`). The pipeline graph
 * is acyclic and a `forwarded` never waits on its own envelope, so waits resolve
 * upstream first.
 *
 * @module
 */
import type { AuditEvent } from "../../domain/ledger/events.ts";

/** Options for {@linkcode CausalOrder}. */
export interface CausalOrderOptions {
  /** Where events go, in causal order (the ledger batcher). */
  emit(bytes: Uint8Array): void;
  /** Longest hold of an event waiting for its `forwarded`; default 500 ms. */
  holdMs?: number;
  /** How many forwarded envelope ids are remembered; default 100 000. */
  remember?: number;
}

const WAITS_FOR_FORWARDED = new Set(["validated", "rejected"]);

interface Pending {
  bytes: Uint8Array;
  /** The envelope whose `forwarded` must be written first, if any. */
  after?: string;
  /** The envelope this event forwards, if it is a `forwarded`. */
  forwards?: string;
  since: number;
}

/**
 * Orders agent events so that an envelope's `forwarded` precedes its receipt.
 *
 * @example
 * ```ts
 * import { CausalOrder } from "./causal_order.ts";
 * const out: string[] = [];
 * const order = new CausalOrder({ emit: (b) => out.push(new TextDecoder().decode(b)) });
 * const id = crypto.randomUUID();
 * const at = "2026-01-01T00:00:00.000Z";
 * order.push({ type: "validated", at, agent: "planner", envelope_id: id }, new TextEncoder().encode("v"));
 * order.push({ type: "forwarded", at, agent: "sanitization", envelope_id: id }, new TextEncoder().encode("f"));
 * order.close();
 * if (out.join("") !== "fv") throw new Error(out.join(""));
 * ```
 */
export class CausalOrder {
  readonly #emit: (bytes: Uint8Array) => void;
  readonly #holdMs: number;
  readonly #remember: number;
  readonly #forwarded = new Set<string>();
  /** Per agent, events not written yet, in reporting order. */
  readonly #queues = new Map<string, Pending[]>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Creates an orderer writing to `options.emit`. */
  constructor(options: CausalOrderOptions) {
    this.#emit = options.emit;
    this.#holdMs = options.holdMs ?? 500;
    this.#remember = options.remember ?? 100_000;
  }

  /** Takes one verified event with its exact bytes. */
  push(event: AuditEvent, bytes: Uint8Array): void {
    const id = event.envelope_id;
    const after = id !== undefined && WAITS_FOR_FORWARDED.has(event.type) ? id : undefined;
    const queue = this.#queues.get(event.agent) ?? [];
    queue.push({
      bytes,
      ...(after !== undefined ? { after } : {}),
      ...(event.type === "forwarded" && id !== undefined ? { forwards: id } : {}),
      since: Date.now(),
    });
    this.#queues.set(event.agent, queue);
    this.#drain(event.agent);
    if (this.#queues.has(event.agent)) {
      this.#timer ??= setTimeout(() => this.#expire(), this.#holdMs);
    }
  }

  /** Writes everything still waiting (at shutdown). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const agent of [...this.#queues.keys()]) this.#drain(agent, true);
  }

  /** Writes the releasable head of `agent`'s queue; a written `forwarded` may unblock others. */
  #drain(agent: string, force = false): void {
    const queue = this.#queues.get(agent);
    if (queue === undefined) return;
    const now = Date.now();
    const unblocked: string[] = [];
    while (queue.length > 0) {
      const head = queue[0]!;
      const ready = force || head.after === undefined || this.#forwarded.has(head.after) ||
        now - head.since >= this.#holdMs;
      if (!ready) break;
      queue.shift();
      this.#emit(head.bytes);
      const id = head.forwards;
      if (id !== undefined) {
        this.#forwarded.add(id);
        if (this.#forwarded.size > this.#remember) {
          this.#forwarded.delete(this.#forwarded.values().next().value!);
        }
        unblocked.push(id);
      }
    }
    if (queue.length === 0) this.#queues.delete(agent);
    if (unblocked.length > 0) {
      for (const other of [...this.#queues.keys()]) if (other !== agent) this.#drain(other, force);
    }
  }

  #expire(): void {
    this.#timer = undefined;
    for (const agent of [...this.#queues.keys()]) this.#drain(agent);
    if (this.#queues.size > 0) {
      const now = Date.now();
      let oldest = Infinity;
      for (const queue of this.#queues.values()) oldest = Math.min(oldest, queue[0]!.since);
      this.#timer = setTimeout(() => this.#expire(), Math.max(1, oldest + this.#holdMs - now));
    }
  }
}
