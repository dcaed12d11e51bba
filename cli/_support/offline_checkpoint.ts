/**
 * A checkpoint signed and cosigned while no pipeline runs: what `saoe audit
 * checkpoint` does, and what every command that appends to the ledger itself
 * (a key ceremony, `saoe publish`, `saoe quarantine` with the pipeline stopped)
 * does right after, so that its record is witnessed at once rather than at the
 * next start: until a witness vouches for it, cutting it off the end of the
 * ledger would go unseen (and with a `trust_versions` record, so would the
 * high-water mark it raised).
 *
 * The ledger has a single writer; this holds its lock from the verification to
 * the stored cosigned checkpoint. Before signing, the whole ledger is verified
 * against its witnesses: a checkpoint over records edited while the pipeline was
 * stopped would vouch for the edit. Like the supervisor, it first appends a
 * `checkpoint` event (in the supervisor's name, whose key signs, with
 * `detail.reason: "operator"`), so the signed head includes the record of its
 * own signing.
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import type { HomeConfig } from "../../core/domain/home/config.ts";
import { type HomeLayout, ledgerPath, SUPERVISOR_ID } from "../../core/domain/home/layout.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { buildEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import { checkpointKeys, verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import { openWitnessedLedger } from "../../core/services/supervisor/ledger_start.ts";
import { Witnessing, type WitnessState } from "../../core/services/supervisor/witnessing.ts";
import { ledgerExists } from "./ledger_access.ts";
import { pipelineRunning } from "./pipeline_probe.ts";
import { reachWitnesses } from "./witness_access.ts";

/** The checkpoint written, and whether the witness policy's threshold cosigned it. */
export interface OfflineCheckpoint {
  treeSize: number;
  root: string;
  witnessed: boolean;
  witnesses: WitnessState[];
}

/** The refusal while a pipeline holds the ledger. */
export function pipelineHoldsLedger(): SaoeError {
  return new SaoeError(
    "io_error",
    "Cannot checkpoint now: the pipeline is running and holds the ledger (its single writer); it checkpoints within a second of every append and at shutdown",
  );
}

/**
 * Verifies the ledger against its witnesses, appends a `checkpoint` event,
 * signs the new head and has the witnesses cosign it. Throws when a pipeline
 * runs, when there is no ledger, or when the ledger does not verify.
 */
export async function checkpointWhileStopped(
  home: HomeLayout,
  config: HomeConfig,
  log: (line: string) => void,
): Promise<OfflineCheckpoint> {
  if (await pipelineRunning(home)) throw pipelineHoldsLedger();
  if (!(await ledgerExists(home))) {
    throw new SaoeError(
      "io_error",
      `Cannot checkpoint: there is no audit ledger at ${
        ledgerPath(home)
      } yet (the pipeline creates it)`,
    );
  }
  const { directory } = await verifyHomeTrust({ home, config, clock: systemClock });
  const secrets = await (await openKeyStore(home.keys)).loadAgent(SUPERVISOR_ID);
  let key: SigningKey;
  try {
    key = await SigningKey.fromSeed(secrets.seed);
  } finally {
    secrets.seed.fill(0);
  }
  const logKeys = checkpointKeys(directory, systemClock.now());
  await using reachable = await reachWitnesses(home, config, log);
  let opened;
  try {
    opened = await openWitnessedLedger({
      home,
      config,
      signer: key,
      logKeys,
      policy: reachable.policy,
    });
  } catch (err: unknown) {
    // a pipeline that started between the probe and the open
    if (await pipelineRunning(home)) throw pipelineHoldsLedger();
    throw err;
  }
  const { ledger } = opened;
  try {
    // verified (by openWitnessedLedger) while holding the writer lock: nothing can
    // append in between
    ledger.append([
      encodeEvent(buildEvent({
        type: "checkpoint",
        agent: SUPERVISOR_ID,
        detail: { tree_size: ledger.head().size + 1, reason: "operator" },
      })),
    ]);
    const written = await ledger.checkpoint();
    const witnessing = new Witnessing({
      ledger,
      policy: opened.policy,
      origin: opened.origin,
      logKeys,
      sizes: opened.mark.sizes,
      clock: systemClock,
      log,
    });
    await witnessing.submit(written);
    await witnessing.close();
    return {
      treeSize: written.treeSize,
      root: written.root,
      witnessed: witnessing.witnessedSize >= written.treeSize,
      witnesses: witnessing.states(),
    };
  } finally {
    ledger.close();
  }
}

/** Why the witnesses did not cosign, one line. */
export function witnessProblems(states: readonly WitnessState[]): string {
  return states.map((w) => `${w.name}: ${w.state}${w.error ? ` (${w.error})` : ""}`).join("; ");
}
