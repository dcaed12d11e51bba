/**
 * Keeps the ledger in causal order across agents. Each agent reports on its own
 * pipe and the supervisor verifies each line asynchronously, so a receiver's
 * `validated` can reach the supervisor before the sender's `forwarded` for the
 * same envelope, although it happened after it. An event that refers to an
 * envelope received from a peer (`validated`, `rejected`) is held until that
 * envelope's `forwarded` is written, or for at most `holdMs` (an envelope planted
 * in an inbox by hand, or by an attacker, has no `forwarded`).
 *
 * @module
 */
import type { AuditEvent } from "../ledger/events.ts";

/** Options for {@linkcode CausalOrder}. */
export interface CausalOrderOptions {
  /** Where events go, in causal order (the ledger batcher). */
  emit(bytes: Uint8Array): void;
  /** Longest hold of an event waiting for its `forwarded`; default 500 ms. */
  holdMs?: number;
  /** How many forwarded envelope ids are remembered; default 100 000. */
  remember?: number;
  /** Most events held at once (more are written at once); default 10 000. */
  maxHeld?: number;
}

const WAITS_FOR_FORWARDED = new Set(["validated", "rejected"]);

interface Held {
  bytes: Uint8Array;
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
  readonly #maxHeld: number;
  readonly #forwarded = new Set<string>();
  readonly #held = new Map<string, Held[]>();
  #heldCount = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Creates an orderer writing to `options.emit`. */
  constructor(options: CausalOrderOptions) {
    this.#emit = options.emit;
    this.#holdMs = options.holdMs ?? 500;
    this.#remember = options.remember ?? 100_000;
    this.#maxHeld = options.maxHeld ?? 10_000;
  }

  /** Takes one verified event with its exact bytes. */
  push(event: AuditEvent, bytes: Uint8Array): void {
    const id = event.envelope_id;
    if (id === undefined) return this.#emit(bytes);
    if (event.type === "forwarded") {
      this.#emit(bytes);
      this.#forwarded.add(id);
      if (this.#forwarded.size > this.#remember) {
        this.#forwarded.delete(this.#forwarded.values().next().value!);
      }
      this.#release(id);
      return;
    }
    if (
      !WAITS_FOR_FORWARDED.has(event.type) || this.#forwarded.has(id) ||
      this.#heldCount >= this.#maxHeld
    ) {
      return this.#emit(bytes);
    }
    const list = this.#held.get(id) ?? [];
    list.push({ bytes, since: Date.now() });
    this.#held.set(id, list);
    this.#heldCount++;
    this.#timer ??= setTimeout(() => this.#expire(), this.#holdMs);
  }

  /** Writes every held event now (at shutdown). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const id of [...this.#held.keys()]) this.#release(id);
  }

  #release(id: string): void {
    const list = this.#held.get(id);
    if (list === undefined) return;
    this.#held.delete(id);
    this.#heldCount -= list.length;
    for (const held of list) this.#emit(held.bytes);
  }

  #expire(): void {
    this.#timer = undefined;
    const now = Date.now();
    let oldest = Infinity;
    for (const [id, list] of this.#held) {
      if (now - list[0]!.since >= this.#holdMs) this.#release(id);
      else oldest = Math.min(oldest, list[0]!.since);
    }
    if (oldest !== Infinity) {
      this.#timer = setTimeout(() => this.#expire(), Math.max(1, oldest + this.#holdMs - now));
    }
  }
}
