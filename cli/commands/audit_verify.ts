/**
 * `saoe audit verify`: recomputes the whole audit ledger's hash chain and checks
 * every checkpoint and the anchor file against the supervisor's checkpoint keys,
 * which it takes from the agent key directory only after walking the trust root
 * chain from the pin in `config.json` (nothing in the ledger vouches for itself).
 *
 * @module
 */
import { anchorPath, ledgerPath } from "../../core/domain/home/layout.ts";
import { verifyLedger } from "../../core/domain/ledger/verify.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { checkpointKeys, verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import { openLedgerForReading } from "../_support/ledger_access.ts";
import { inert, jsonText } from "../_support/output.ts";
import { UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["audit", "verify"];

/** `saoe audit verify`. */
export const auditVerifyCommand: Command = {
  path: PATH,
  summary: "verify the audit ledger's hash chain, checkpoints and anchor",
  usage: "",
  description: [
    "Verifies the home's audit ledger: every record's hash chain from the first record, every",
    "signed checkpoint stored in the ledger and the anchor file audit/anchor.json kept outside",
    "it. Checkpoint signatures are checked against the supervisor's keys from the agent key",
    "directory, after the trust root chain is verified from the pin in config.json.",
    "",
    "Detects edited, deleted, reordered or inserted records, a chain re-computed without the",
    "checkpoint key, forged checkpoints, and records cut off past the last checkpoint. Records",
    "after the last checkpoint are protected by the chain only.",
    "",
    "Exit codes: 0 verified, 1 a bad record (the first one is named) or no ledger, 2 usage.",
  ].join("\n"),
  options: {},
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.positionals.length > 0) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
      }
      const { home, config } = await openHome(ctx.global.home);
      const { directory } = await verifyHomeTrust({ home, config, clock: systemClock });
      // refuses clearly when there is no ledger yet
      (await openLedgerForReading(home)).close();
      const result = await verifyLedger({
        path: ledgerPath(home),
        anchorPath: anchorPath(home),
        checkpointKeys: checkpointKeys(directory, systemClock.now()),
        clock: systemClock,
      });
      if (ctx.global.json) {
        ctx.out(jsonText({
          ok: result.ok,
          size: result.size,
          checked: result.checked,
          checkpoints: result.checkpoints,
          ...(result.firstBad !== undefined ? { first_bad: result.firstBad } : {}),
          message: result.message,
        }));
      } else if (result.ok) {
        ctx.out(`ok: ${inert(result.message)}`);
      } else {
        ctx.err(`saoe audit verify: ${inert(result.message)}`);
        if (result.firstBad !== undefined) {
          ctx.err(
            `First bad record: seq ${result.firstBad.seq} (${result.firstBad.reason}); records before it verified`,
          );
        }
      }
      return result.ok ? EXIT.ok : EXIT.failure;
    });
  },
};
