/**
 * Opening the audit ledger at the supervisor's start, against its witnesses: the
 * largest checkpoint they vouch for is asked for first, then the ledger is
 * opened as the single writer and verified in full against it. A ledger that is
 * missing, unreadable, shorter than or inconsistent with what the witnesses
 * vouch for is a refusal that names both sides ("witness w1 vouches for 167
 * records at root 3f…; the ledger holds 15"); nothing is spawned and nothing is
 * signed over a history the witnesses never saw.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import type { HomeConfig } from "../../domain/home/config.ts";
import { type HomeLayout, ledgerPath, witnessedCheckpointPath } from "../../domain/home/layout.ts";
import { type Ledger, openLedger } from "../../domain/ledger/ledger.ts";
import { logOrigin } from "../../domain/ledger/log_identity.ts";
import { type LedgerVerification, verifyLedger } from "../../domain/ledger/verify.ts";
import { type HomeWitnessPolicy, witnessPolicy } from "../witness/policy.ts";
import { type WitnessedMark, witnessedMark } from "../witness/witnessed_head.ts";

/** A ledger opened for writing that verified against its witnesses. */
export interface WitnessedLedger {
  ledger: Ledger;
  origin: string;
  policy: HomeWitnessPolicy;
  mark: WitnessedMark;
  verification: LedgerVerification;
}

/** Options for {@linkcode openWitnessedLedger}. */
export interface OpenWitnessedLedgerOptions {
  home: HomeLayout;
  config: HomeConfig;
  /** The supervisor's key, which signs the checkpoints. */
  signer: SigningKey;
  /** The keys trusted to have signed this log's checkpoints (the directory's supervisor keys). */
  logKeys: TrustedKeySet;
  /** The witness policy, with the URLs of the local witnesses started; default the config's. */
  policy?: HomeWitnessPolicy;
  /** Per witness; default 5 s. */
  timeoutMs?: number;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const RESTORE =
  "restore audit/ledger.db from a backup that holds at least what the witnesses vouch for; a ledger they do not vouch for is not used, and no option overrides this";

/** The ledger's own record of its latest witnessed checkpoint, if it can be read at all. */
async function storedWitnessed(path: string): Promise<string | undefined> {
  try {
    const reader = await openLedger({ path, readOnly: true });
    try {
      return reader.latestWitnessed()?.note;
    } finally {
      reader.close();
    }
  } catch {
    return undefined; // missing, unreadable or an earlier format: the witnesses decide
  }
}

/**
 * Asks the witnesses, opens the ledger as its writer and verifies it; throws a
 * refusal (`bad_config`, `witness_unavailable`, `checkpoint_signature` or
 * `ledger_broken`) naming what was found and the fix.
 *
 * @example
 * ```ts ignore
 * const { ledger, mark } = await openWitnessedLedger({ home, config, signer, logKeys });
 * ```
 */
export async function openWitnessedLedger(
  options: OpenWitnessedLedgerOptions,
): Promise<WitnessedLedger> {
  const { home, config, signer, logKeys } = options;
  const policy = options.policy ?? witnessPolicy(config);
  const origin = logOrigin(config.root_pin);
  const path = ledgerPath(home);
  let mark: WitnessedMark;
  const stored = await storedWitnessed(path);
  try {
    mark = await witnessedMark({
      policy,
      origin,
      logKeys,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(stored !== undefined ? { stored } : {}),
    });
  } catch (err: unknown) {
    const code = err instanceof SaoeError ? err.code : "witness_unavailable";
    throw new SaoeError(
      code,
      `Refusing to start: ${
        describe(err)
      }. Fix: start the witness (a local one starts with "saoe pipeline"), or check config.json's "witnesses"`,
      {},
      { cause: err },
    );
  }
  const witnessed = mark.head;
  const info = await Deno.lstat(path).catch(() => undefined);
  if (witnessed !== undefined && (info === undefined || (info.isFile && info.size === 0))) {
    throw new SaoeError(
      "ledger_broken",
      `Refusing to start: ${mark.source} vouches for ${witnessed.size} records, but ${path} is ${
        info === undefined ? "missing" : "empty"
      }. Fix: ${RESTORE}`,
    );
  }
  let ledger: Ledger;
  try {
    ledger = await openLedger({
      path,
      checkpointKey: signer,
      origin,
      witnessedPath: witnessedCheckpointPath(home),
    });
  } catch (err: unknown) {
    const vouched = witnessed === undefined
      ? ""
      : ` (${mark.source} vouches for ${witnessed.size} records)`;
    throw new SaoeError(
      err instanceof SaoeError && err.code !== "io_error" ? err.code : "ledger_broken",
      `Refusing to start: the ledger ${path} cannot be opened: ${
        describe(err)
      }${vouched}. Fix: stop another supervisor running on this home, or ${RESTORE}`,
      { file: path },
      { cause: err },
    );
  }
  const verification = await verifyLedger({
    path,
    origin,
    logKeys,
    ...(witnessed !== undefined ? { witnessed } : {}),
    ...(mark.source !== undefined ? { witnessedSource: mark.source } : {}),
  });
  if (!verification.ok) {
    ledger.close();
    throw new SaoeError(
      "ledger_broken",
      `Refusing to start: ${verification.message}. Fix: ${RESTORE}`,
      { file: path },
    );
  }
  return { ledger, origin, policy, mark, verification };
}
