/**
 * After a command appended to the ledger itself (no pipeline running): the
 * checkpoint over its record, cosigned at once (`offline_checkpoint.ts`), and
 * how the command reports it. The command's own work is done either way; a
 * record the witnesses could not cosign yet is reported as a warning with the
 * way to finish it.
 *
 * @module
 */
import { isSaoeError } from "../../core/primitives/errors.ts";
import type { CommandContext } from "./command.ts";
import { openHome } from "./home.ts";
import { checkpointWhileStopped, witnessProblems } from "./offline_checkpoint.ts";
import { pipelineRunning } from "./pipeline_probe.ts";

/** Whether the record is witnessed, in the command's JSON (`witnessing`). */
export interface OwnRecordWitnessing {
  witnessed: boolean;
  /** The size of the checkpoint written over it. */
  checkpoint_size?: number;
  /** Why it is not witnessed yet. */
  problem?: string;
}

/** Checkpoints the ledger and has the witnesses cosign it; never throws. */
export async function witnessOwnRecord(homeRoot: string): Promise<OwnRecordWitnessing> {
  try {
    const { home, config } = await openHome(homeRoot);
    try {
      const written = await checkpointWhileStopped(home, config, () => {});
      return written.witnessed ? { witnessed: true, checkpoint_size: written.treeSize } : {
        witnessed: false,
        checkpoint_size: written.treeSize,
        problem: witnessProblems(written.witnesses),
      };
    } catch (err: unknown) {
      if (await pipelineRunning(home)) {
        return {
          witnessed: false,
          problem: "a pipeline started meanwhile: it checkpoints the record within a second",
        };
      }
      throw err;
    }
  } catch (err: unknown) {
    const message = err instanceof Error ? err.message : String(err);
    return { witnessed: false, problem: isSaoeError(err) ? `${message} (${err.code})` : message };
  }
}

/** The text line for {@linkcode OwnRecordWitnessing}. */
export function witnessingLine(w: OwnRecordWitnessing): string {
  if (w.witnessed) {
    return `Witnessed: the witnesses cosigned the checkpoint over it (${w.checkpoint_size} records)`;
  }
  return `WARNING: recorded but not witnessed yet: ${w.problem}. Until a witness cosigns a checkpoint over it, cutting it off the end of the ledger goes unseen: run "saoe audit checkpoint" once the witnesses are reachable (the next pipeline start does it too)`;
}

/** {@linkcode witnessOwnRecord} when the command appended the record itself (`recordedBy` "ledger"). */
export function witnessIfOwn(
  homeRoot: string,
  recordedBy: string | undefined,
): Promise<OwnRecordWitnessing | undefined> {
  return recordedBy === "ledger" ? witnessOwnRecord(homeRoot) : Promise.resolve(undefined);
}

/** Prints {@linkcode witnessingLine} (a warning on stderr when not witnessed). */
export function printWitnessing(ctx: CommandContext, w: OwnRecordWitnessing | undefined): void {
  if (w === undefined) return;
  if (w.witnessed) ctx.out(witnessingLine(w));
  else ctx.err(witnessingLine(w));
}
