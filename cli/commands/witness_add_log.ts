/**
 * `saoe witness add-log`: registers a log (its origin and its checkpoint
 * verifier key) with a witness; works while `saoe witness serve` runs.
 *
 * @module
 */
import { addWitnessLog } from "../../core/services/witness/state.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { inert, jsonText } from "../_support/output.ts";
import { withUsage } from "../_support/usage.ts";
import { requiredOption, STATE_OPTION, stateDirOption } from "../_support/witness_state_option.ts";

const PATH = ["witness", "add-log"];

/** `saoe witness add-log`. */
export const witnessAddLogCommand: Command = {
  path: PATH,
  summary: "register a log (origin and checkpoint key) with a witness",
  usage: "--state DIR --origin ORIGIN --vkey VKEY",
  description: [
    "Registers the log whose checkpoints carry the origin line ORIGIN, with VKEY, the log's",
    "Ed25519 note verifier key (signature type 0x01, named by the origin), as the key whose",
    "signature the witness requires. The witness then cosigns the log's checkpoints from size 0",
    "on, each consistent with the last. A vkey named otherwise than the origin is refused, and so",
    "is an origin already registered: a log with a new key is a new log. A running witness sees",
    "the new log at once.",
    "",
    "Examples:",
    "  saoe witness add-log --state /var/lib/saoe-witness \\",
    "    --origin saoe.example/ledger/5c1b --vkey 'saoe.example/ledger/5c1b+1f2e3d4c+AU…'",
    "",
    "Exit codes: 0 added, 1 refused (bad or misnamed vkey, known origin, no state), 2 usage.",
  ].join("\n"),
  options: {
    state: STATE_OPTION,
    origin: { type: "string", value: "ORIGIN", help: "the log's origin (first checkpoint line)" },
    vkey: { type: "string", value: "VKEY", help: "the log's verifier key, type 0x01" },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      const dir = stateDirOption(ctx);
      const origin = requiredOption(ctx, "origin", "the log's origin line");
      const vkey = requiredOption(ctx, "vkey", "the log's verifier key (type 0x01)");
      const log = await addWitnessLog({ dir, origin, vkey });
      if (ctx.global.json) {
        ctx.out(jsonText({ ok: true, origin: log.origin, vkey: log.vkey }));
      } else {
        ctx.out(`Log ${inert(log.origin)} added: the witness cosigns its checkpoints from size 0`);
      }
      return EXIT.ok;
    });
  },
};
