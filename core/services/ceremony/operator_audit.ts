/**
 * Where an operator action (`saoe quarantine retry|drop`, `saoe publish`,
 * `saoe publish --tools`) is recorded: as one `operator_action` event in the
 * audit ledger (`core/domain/ledger/operator_action.ts`). The ledger has a
 * single writer. When no pipeline runs, the CLI opens it as that writer and
 * appends the event itself (as `keys_audit.ts` does for a ceremony's
 * `key_rotated`). While a pipeline runs it holds the writer lock, so the CLI
 * signs the action with the supervisor's key from the key store, writes it
 * atomically into `agents/supervisor/requests/`, and waits (bounded) until the
 * supervisor's `operator_action` event with that request id is in the ledger,
 * or its `operator_action_refused` names the file.
 *
 * @module
 */
import { join } from "node:path";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { type ReasonCode, SaoeError } from "../../primitives/errors.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import {
  type HomeLayout,
  ledgerPath,
  SUPERVISOR_ID,
  supervisorRequestsDir,
} from "../../domain/home/layout.ts";
import { openKeyStore } from "../../domain/keys/keystore.ts";
import { encodeEvent } from "../../domain/ledger/events.ts";
import { scanSupervisorEvents } from "../../domain/ledger/event_scan.ts";
import { type Ledger, openLedger } from "../../domain/ledger/ledger.ts";
import {
  type OperatorAction,
  operatorActionEvent,
  requestFileName,
  signOperatorRequest,
} from "../../domain/ledger/operator_action.ts";
import { supervisorRunning } from "./keys_audit.ts";

/** How an operator action was recorded. */
export interface OperatorActionRecord {
  /** `ledger`: appended by this process; `supervisor`: by the running supervisor. */
  recordedBy: "ledger" | "supervisor";
  /** The seq of its `operator_action` record. */
  seq: number;
  /** The ledger file. */
  ledger: string;
  /** The request it was handed over as (`supervisor` only). */
  requestId?: string;
}

/** Options for {@linkcode recordOperatorAction}. */
export interface RecordOperatorActionOptions {
  clock: Clock;
  /** How long to wait for a running supervisor to record it; default 15 s. */
  timeoutMs?: number;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Appends the event as the ledger's writer; `undefined` when a supervisor holds it. */
async function appendAsWriter(
  home: HomeLayout,
  action: OperatorAction,
  clock: Clock,
): Promise<number | undefined> {
  let ledger: Ledger;
  try {
    ledger = await openLedger({ path: ledgerPath(home) });
  } catch (err: unknown) {
    // a supervisor that started between the probe and the open records it instead
    if (await supervisorRunning(home)) return undefined;
    throw err instanceof SaoeError ? err : new SaoeError(
      "io_error",
      `Cannot record the operator action in ${ledgerPath(home)}: ${describe(err)}`,
    );
  }
  try {
    const [seq] = ledger.append([
      encodeEvent(operatorActionEvent(action, { recorded_by: "saoe" }, clock)),
    ]);
    return seq!;
  } finally {
    ledger.close();
  }
}

/** The ledger's size now (0 when it does not exist yet). */
async function ledgerSize(home: HomeLayout): Promise<number> {
  try {
    const reader = await openLedger({ path: ledgerPath(home), readOnly: true });
    try {
      return reader.head().size;
    } finally {
      reader.close();
    }
  } catch {
    return 0;
  }
}

/** Hands the action to the running supervisor and waits until it is in the ledger. */
async function handToSupervisor(
  home: HomeLayout,
  action: OperatorAction,
  options: RecordOperatorActionOptions,
): Promise<OperatorActionRecord> {
  const secrets = await (await openKeyStore(home.keys)).loadAgent(SUPERVISOR_ID);
  let signer: SigningKey;
  try {
    signer = await SigningKey.fromSeed(secrets.seed);
  } finally {
    secrets.seed.fill(0);
  }
  const { requestId, bytes } = await signOperatorRequest({ action, signer, clock: options.clock });
  const dir = supervisorRequestsDir(home);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const name = requestFileName(requestId);
  const file = join(dir, name);
  // only records after this can be the supervisor's answer
  const after = await ledgerSize(home);
  await writeFileAtomic(file, bytes);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let cursor = after;
  for (;;) {
    let found: { seq: number } | { refused: ReasonCode; message: string } | undefined;
    try {
      const reader = await openLedger({ path: ledgerPath(home), readOnly: true });
      try {
        cursor = scanSupervisorEvents(
          reader,
          ["operator_action", "operator_action_refused"],
          (e, seq) => {
            if (found !== undefined) return;
            if (e.type === "operator_action" && e.detail?.request_id === requestId) found = { seq };
            if (e.type === "operator_action_refused" && e.detail?.file === name) {
              found = { refused: e.reason ?? "io_error", message: String(e.detail?.message ?? "") };
            }
          },
          cursor,
        );
      } finally {
        reader.close();
      }
    } catch {
      // the ledger is busy or not there yet: look again
    }
    if (found !== undefined && "seq" in found) {
      return { recordedBy: "supervisor", seq: found.seq, ledger: ledgerPath(home), requestId };
    }
    if (found !== undefined) {
      throw new SaoeError(
        found.refused,
        `The running supervisor refused to record the operator action (request ${requestId}): ${found.message}`,
      );
    }
    if (Date.now() >= deadline) {
      throw new SaoeError(
        "io_error",
        `The running supervisor has not recorded the operator action in ${
          ledgerPath(home)
        } within ${
          Math.round(timeoutMs / 1000)
        } s; the request waits in ${file} and is recorded when the supervisor picks it up (it expires 5 minutes after it was signed)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Records `action` in the ledger: appended here when no pipeline runs, else
 * handed to the running supervisor (see the module doc). Throws when it could
 * not be recorded (the action itself has been done).
 *
 * @example
 * ```ts ignore
 * const r = await recordOperatorAction(home, action, { clock: systemClock });
 * console.log(`recorded as record ${r.seq} of ${r.ledger}`);
 * ```
 */
export async function recordOperatorAction(
  home: HomeLayout,
  action: OperatorAction,
  options: RecordOperatorActionOptions,
): Promise<OperatorActionRecord> {
  if (!(await supervisorRunning(home))) {
    const seq = await appendAsWriter(home, action, options.clock);
    if (seq !== undefined) return { recordedBy: "ledger", seq, ledger: ledgerPath(home) };
  }
  return await handToSupervisor(home, action, options);
}
