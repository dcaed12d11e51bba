/**
 * `saoe audit checkpoint`: signs the ledger's current head with the supervisor's
 * checkpoint key and rewrites the anchor file, when no pipeline is running.
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
import { anchorPath, ledgerPath } from "../../core/domain/home/layout.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { verifyLedger } from "../../core/domain/ledger/verify.ts";
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
    "Cannot checkpoint now: the pipeline is running and holds the ledger (its single writer); it checkpoints every 60 s and at shutdown",
  );
}

/** `saoe audit checkpoint`. */
export const auditCheckpointCommand: Command = {
  path: PATH,
  summary: "sign a ledger checkpoint now (only while the pipeline is stopped)",
  usage: "",
  description: [
    "Verifies the whole audit ledger, appends a checkpoint event (reason operator), signs the",
    "new head with the supervisor's checkpoint key, stores the checkpoint in the ledger and",
    "rewrites the anchor file audit/anchor.json. After this, cutting records off the end is",
    "detected by audit verify.",
    "",
    "The ledger has one writer. While the pipeline runs it holds the ledger and checkpoints by",
    "itself (every 60 s and at shutdown), so this command refuses then.",
    "",
    "Exit codes: 0 written, 1 refused (pipeline running, no or empty ledger, ledger does not",
    "verify), 2 usage.",
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
      let ledger;
      try {
        ledger = await openLedger({
          path: ledgerPath(home),
          checkpointKey: key,
          anchorPath: anchorPath(home),
          clock: systemClock,
        });
      } catch (err: unknown) {
        // a pipeline that started between the probe and the open
        if (await pipelineRunning(home)) throw refuseRunning();
        throw err;
      }
      try {
        // verified while holding the writer lock: nothing can append in between
        const verified = await verifyLedger({
          path: ledgerPath(home),
          anchorPath: anchorPath(home),
          checkpointKeys: checkpointKeys(directory, systemClock.now()),
          clock: systemClock,
        });
        if (!verified.ok) {
          throw new SaoeError(
            "ledger_broken",
            `Cannot checkpoint a ledger that does not verify: ${inert(verified.message)}`,
          );
        }
        // the same record the supervisor appends before it signs: the checkpoint is in the trail
        ledger.append([
          encodeEvent(buildEvent({
            type: "checkpoint",
            agent: SUPERVISOR_ID,
            detail: { tree_size: ledger.head().size + 1, reason: "operator" },
          })),
        ]);
        const written = await ledger.checkpoint();
        if (ctx.global.json) {
          ctx.out(jsonText({ ok: true, tree_size: written.treeSize, head_hash: written.headHash }));
        } else {
          ctx.out(
            `Checkpoint written: ${written.treeSize} records, head ${written.headHash} (ledger and ${
              anchorPath(home)
            })`,
          );
        }
        return EXIT.ok;
      } finally {
        ledger.close();
      }
    });
  },
};
