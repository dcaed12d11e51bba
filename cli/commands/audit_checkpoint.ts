/**
 * `saoe audit checkpoint`: signs the ledger's current head with the supervisor's
 * checkpoint key and has the witnesses cosign it, when no pipeline is running
 * (`../_support/offline_checkpoint.ts`). While a supervisor runs it holds the
 * writer lock and checkpoints on its own, so this command refuses rather than wait.
 *
 * @module
 */
import { witnessedCheckpointPath } from "../../core/domain/home/layout.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { checkpointWhileStopped, witnessProblems } from "../_support/offline_checkpoint.ts";
import { inert, jsonText } from "../_support/output.ts";
import { UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["audit", "checkpoint"];

/** `saoe audit checkpoint`. */
export const auditCheckpointCommand: Command = {
  path: PATH,
  summary: "sign a ledger checkpoint now (only while the pipeline is stopped)",
  usage: "",
  description: [
    "Verifies the whole audit ledger against its witnesses, appends a checkpoint event (reason",
    "operator), signs the new head with the supervisor's checkpoint key and sends it to the",
    "witnesses; once enough cosigned it, the cosigned checkpoint is stored in the ledger and",
    "copied to audit/checkpoint. After this, cutting records off the end is detected by audit",
    "verify. Commands that append to the ledger while the pipeline is stopped (key ceremonies,",
    "publish, quarantine) do this by themselves; run it when theirs could not reach the witnesses.",
    "",
    "The ledger has one writer. While the pipeline runs it holds the ledger and checkpoints by",
    "itself (within a second of every append, and at shutdown), so this command refuses then.",
    "",
    "Exit codes: 0 written and cosigned, 1 refused (pipeline running, no or empty ledger, ledger",
    "does not verify) or not cosigned by enough witnesses, 2 usage.",
  ].join("\n"),
  options: {},
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.positionals.length > 0) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
      }
      const { home, config } = await openHome(ctx.global.home);
      const written = await checkpointWhileStopped(home, config, (line) => ctx.err(inert(line)));
      if (ctx.global.json) {
        ctx.out(jsonText({
          ok: written.witnessed,
          tree_size: written.treeSize,
          root: written.root,
          witnessed: written.witnessed,
          witnesses: written.witnesses,
        }));
      } else if (written.witnessed) {
        ctx.out(
          `Checkpoint written and cosigned: ${written.treeSize} records, root ${written.root} (copy in ${
            witnessedCheckpointPath(home)
          })`,
        );
      } else {
        ctx.err(
          `Checkpoint written (${written.treeSize} records, root ${written.root}) but not cosigned by enough witnesses: ${
            witnessProblems(written.witnesses)
          }`,
        );
      }
      return written.witnessed ? EXIT.ok : EXIT.failure;
    });
  },
};
