/**
 * The running supervisor's intake of operator actions. The CLI cannot append to
 * the ledger while the supervisor holds it, so it writes a signed request into
 * `agents/supervisor/requests/` (`core/domain/ledger/operator_action.ts`); the
 * supervisor scans that folder at start and whenever `Deno.watchFs` reports a
 * change in it, verifies each request (a regular singly linked file, its size,
 * a signature by the supervisor's own key, strict JSON, its exact shape,
 * fresh, named by its id, not seen before), appends its `operator_action`
 * event, waits until the event is in the ledger, and removes the file. A
 * request that does not verify is recorded as `operator_action_refused` with
 * its reason code and removed; nothing of it is appended as given. Temp files
 * of an atomic write in progress (dot names) are left alone.
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import type { PublicKeyEntry } from "../../primitives/dsse/types.ts";
import { SaoeError } from "../../primitives/errors.ts";
import { isHiddenName } from "../../primitives/fs/atomic_write.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { type AuditEvent, buildEvent } from "../../domain/ledger/events.ts";
import { SUPERVISOR_ID } from "../../domain/home/layout.ts";
import {
  MAX_REQUEST_BYTES,
  operatorActionEvent,
  requestFileName,
  verifyOperatorRequest,
} from "../../domain/ledger/operator_action.ts";
import { readTrustFile } from "../../domain/trust/files.ts";
import { type TrustWatch, watchTrust } from "./trust_watch.ts";

/** Options for {@linkcode OperatorRequests}. */
export interface OperatorRequestsOptions {
  /** `agents/supervisor/requests/` (created by the supervisor before). */
  dir: string;
  /** The supervisor's own public key. */
  key: PublicKeyEntry;
  clock: Clock;
  skewMs: number;
  /** Request ids already in the ledger (grows with every request appended). */
  seen: Set<string>;
  /** Appends one event; resolves once it is in the ledger. */
  append(event: AuditEvent): Promise<void>;
  log(line: string): void;
  /** Quiet time after a change in the folder before it is scanned; default 50 ms. */
  debounceMs?: number;
}

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}

/** The folder watch and its scans (one at a time). */
export class OperatorRequests {
  readonly #options: OperatorRequestsOptions;
  #watch: TrustWatch | undefined;
  #scanning: Promise<void> | undefined;
  #again = false;
  #closed = false;
  /** Names refused that could not be removed (audited once). */
  readonly #stuck = new Set<string>();

  /** Watches `options.dir` and scans it once now. */
  constructor(options: OperatorRequestsOptions) {
    this.#options = options;
    try {
      this.#watch = watchTrust({
        paths: [options.dir],
        debounceMs: options.debounceMs ?? 50,
        onChange: () => this.scan(),
        onError: (err) => options.log(`supervisor: cannot watch ${options.dir}: ${describe(err)}`),
      });
    } catch (err: unknown) {
      options.log(`supervisor: cannot watch ${options.dir}: ${describe(err)}`);
    }
    this.scan();
  }

  /** Scans the folder (again once the scan in progress ends, if one runs). */
  scan(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#scanning !== undefined) {
      this.#again = true;
      return this.#scanning;
    }
    const run = (async () => {
      do {
        this.#again = false;
        await this.#scanOnce().catch((err: unknown) =>
          this.#options.log(`supervisor: cannot read operator requests: ${describe(err)}`)
        );
      } while (this.#again && !this.#closed);
    })();
    this.#scanning = run.finally(() => (this.#scanning = undefined));
    return this.#scanning;
  }

  async #scanOnce(): Promise<void> {
    const names: string[] = [];
    for await (const entry of Deno.readDir(this.#options.dir)) {
      if (!isHiddenName(entry.name)) names.push(entry.name);
    }
    for (const name of names.sort()) {
      if (this.#closed) return;
      await this.#handle(name);
    }
  }

  async #handle(name: string): Promise<void> {
    if (this.#stuck.has(name)) return;
    const { dir, clock } = this.#options;
    const path = join(dir, name);
    let bytes: Uint8Array | undefined;
    let event: AuditEvent;
    let requestId: string | undefined;
    try {
      try {
        bytes = await readTrustFile(path, MAX_REQUEST_BYTES);
      } catch (err: unknown) {
        if (err instanceof SaoeError && err.code === "io_error") {
          const gone = await Deno.lstat(path).then(() => false, () => true);
          if (gone) return; // taken away meanwhile
        }
        throw err;
      }
      const request = await verifyOperatorRequest(bytes, {
        key: this.#options.key,
        clock,
        skewMs: this.#options.skewMs,
      });
      if (name !== requestFileName(request.request_id)) {
        throw new SaoeError(
          "bad_identifier",
          `Cannot accept operator request ${request.request_id}: its file is named ${
            JSON.stringify(name.slice(0, 80))
          }, not ${requestFileName(request.request_id)}`,
        );
      }
      if (this.#options.seen.has(request.request_id)) {
        throw new SaoeError(
          "replay",
          `Cannot accept operator request ${request.request_id}: the ledger already records it`,
        );
      }
      event = operatorActionEvent(request.action, {
        recorded_by: "supervisor",
        request_id: request.request_id,
      }, clock);
      requestId = request.request_id;
    } catch (err: unknown) {
      this.#options.log(`supervisor: operator request ${name} refused: ${describe(err)}`);
      event = buildEvent({
        type: "operator_action_refused",
        agent: SUPERVISOR_ID,
        reason: err instanceof SaoeError ? err.code : "io_error",
        detail: {
          file: name.slice(0, 128),
          ...(bytes !== undefined
            ? { size: bytes.byteLength, sha256: await sha256Hex(new Uint8Array(bytes)) }
            : {}),
          message: describe(err),
        },
      }, clock);
    }
    if (requestId !== undefined) this.#options.seen.add(requestId);
    await this.#options.append(event);
    if (requestId !== undefined) {
      this.#options.log(`supervisor: operator action recorded (request ${requestId})`);
    }
    await Deno.remove(path).catch((err: unknown) => {
      if (err instanceof Deno.errors.NotFound) return;
      // not removable (a folder planted here): refused once, then left alone
      this.#stuck.add(name);
      this.#options.log(`supervisor: cannot remove ${path}: ${describe(err)}`);
    });
  }

  /** Stops watching; resolves once the scan in progress ended. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#watch?.close();
    await this.#scanning;
  }
}
