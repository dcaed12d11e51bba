/**
 * `saoe audit checkpoint`: signs the ledger's current head with the supervisor's
 * checkpoint key and has the witnesses cosign it, when no pipeline is running.
 *
 * The ledger has a single writer: while a supervisor runs it holds the writer
 * lock (and checkpoints on its own), so this command refuses rather than wait.
 * Before signing, the whole ledger is verified: a checkpoint over records edited
 * while the pipeline was stopped would vouch for the edit. Like the supervisor,
 * it first appends a `checkpoint` event (reported as the supervisor, the
 * identity whose key signs, with `detail.reason: "operator"`), so the signed
 * head includes the record of its own signing.
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { ledgerPath, witnessedCheckpointPath } from "../../core/domain/home/layout.ts";
import { openWitnessedLedger } from "../../core/services/supervisor/ledger_start.ts";
import { Witnessing } from "../../core/services/supervisor/witnessing.ts";
import { reachWitnesses } from "../_support/witness_access.ts";
import { buildEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { SUPERVISOR_ID } from "../../core/domain/home/layout.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { checkpointKeys, verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import { ledgerExists } from "../_support/ledger_access.ts";
import { pipelineRunning } from "../_support/pipeline_probe.ts";
import { inert, jsonText } from "../_support/output.ts";
import { UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["audit", "checkpoint"];

function refuseRunning(): SaoeError {
  return new SaoeError(
    "io_error",
    "Cannot checkpoint now: the pipeline is running and holds the ledger (its single writer); it checkpoints within a second of every append and at shutdown",
  );
}

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
    "verify. Useful after a ceremony appended events while the pipeline was stopped.",
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
      if (await pipelineRunning(home)) throw refuseRunning();
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
      const key = await SigningKey.fromSeed(secrets.seed);
      secrets.seed.fill(0);
      const logKeys = checkpointKeys(directory, systemClock.now());
      await using reachable = await reachWitnesses(home, config, (line) => ctx.err(line));
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
        if (await pipelineRunning(home)) throw refuseRunning();
        throw err;
      }
      const { ledger } = opened;
      try {
        // verified (by openWitnessedLedger) while holding the writer lock: nothing can
        // append in between. The same record the supervisor appends before it signs:
        // the checkpoint is in the trail.
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
          log: (line) => ctx.err(inert(line)),
        });
        await witnessing.submit(written);
        await witnessing.close();
        const witnessed = witnessing.witnessedSize >= written.treeSize;
        if (ctx.global.json) {
          ctx.out(jsonText({
            ok: witnessed,
            tree_size: written.treeSize,
            root: written.root,
            witnessed,
            witnesses: witnessing.states(),
          }));
        } else if (witnessed) {
          ctx.out(
            `Checkpoint written and cosigned: ${written.treeSize} records, root ${written.root} (copy in ${
              witnessedCheckpointPath(home)
            })`,
          );
        } else {
          ctx.err(
            `Checkpoint written (${written.treeSize} records, root ${written.root}) but not cosigned by enough witnesses: ${
              witnessing.states().map((w) =>
                `${w.name}: ${w.state}${w.error ? ` (${w.error})` : ""}`
              )
                .join("; ")
            }`,
          );
          return EXIT.failure;
        }
        return EXIT.ok;
      } finally {
        ledger.close();
      }
    });
  },
};
