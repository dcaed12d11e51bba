/**
 * An agent's audit events, signed with its own key and written to stdout one
 * DSSE statement per line for the supervisor (the ledger's single writer).
 * Writes are serialised so lines never interleave.
 *
 * @module
 */
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { buildEvent, encodeEvent, type EventFields } from "../../domain/ledger/events.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { utf8 } from "../../primitives/crypto/bytes.ts";

/** Exit code of an agent whose supervisor is gone. */
export const EXIT_ORPHANED = 71;

/** Event fields an agent reports (its own id is filled in). */
export type AgentEventFields = Omit<EventFields, "agent">;

/** Where signed report lines go. */
export interface LineWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/** Signs and writes audit events. */
export class EventSink {
  readonly #agent: string;
  readonly #signer: SigningKey;
  readonly #clock: Clock;
  readonly #out: LineWriter;
  #tail: Promise<void> = Promise.resolve();

  readonly #onBroken: (err: unknown) => void;

  /**
   * Creates a sink that signs with `signer` as `agent`. `onBroken` runs when a
   * report cannot be written (the supervisor is gone): an agent must not go on
   * working without an audit trail. Default: exit the process.
   */
  constructor(
    options: {
      agent: string;
      signer: SigningKey;
      clock: Clock;
      out?: LineWriter;
      onBroken?: (err: unknown) => void;
    },
  ) {
    this.#agent = options.agent;
    this.#signer = options.signer;
    this.#clock = options.clock;
    this.#out = options.out ?? Deno.stdout;
    this.#onBroken = options.onBroken ?? ((err) => {
      console.error(`${this.#agent}: cannot report to the supervisor (${String(err)}); exiting`);
      Deno.exit(EXIT_ORPHANED);
    });
  }

  /** Signs one event and queues its line; resolves once it is written. */
  emit(fields: AgentEventFields): Promise<void> {
    const event = buildEvent({ ...fields, agent: this.#agent }, this.#clock);
    const line = signStatement({
      payloadType: PAYLOAD_TYPES.auditEvent,
      payload: encodeEvent(event),
      signers: [this.#signer],
    });
    this.#tail = this.#tail.then(async () => await this.#writeAll(await line)).catch(
      (err: unknown) => this.#onBroken(err),
    );
    return this.#tail;
  }

  /** Writes a raw control line (e.g. readiness). */
  control(line: string): Promise<void> {
    this.#tail = this.#tail.then(() => this.#writeAll(utf8(line)));
    return this.#tail;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    const data = new Uint8Array(bytes.byteLength + 1);
    data.set(bytes);
    data[bytes.byteLength] = 0x0a;
    let at = 0;
    while (at < data.byteLength) at += await this.#out.write(data.subarray(at));
  }
}
