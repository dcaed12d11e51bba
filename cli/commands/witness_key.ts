/**
 * `saoe witness key`: prints the witness's cosignature verifier key (a vkey of
 * type 0x04), the line a home's config names to trust this witness.
 *
 * @module
 */
import { readWitnessInfo } from "../../core/services/witness/state.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { inert, jsonText } from "../_support/output.ts";
import { withUsage } from "../_support/usage.ts";
import { STATE_OPTION, stateDirOption } from "../_support/witness_state_option.ts";

const PATH = ["witness", "key"];

/** `saoe witness key`. */
export const witnessKeyCommand: Command = {
  path: PATH,
  summary: "print the witness's verifier key (vkey, type 0x04)",
  usage: "--state DIR",
  description: [
    "Prints the witness's cosignature verifier key: NAME+KEYID+BASE64, signature type 0x04",
    "(timestamped Ed25519 cosignatures, c2sp.org/tlog-cosignature). Give it to the homes whose",
    "ledgers this witness cosigns. Reads the public key from witness.db, never the secret key.",
    "",
    "Examples:",
    "  saoe witness key --state /var/lib/saoe-witness",
    "  saoe witness key --state /var/lib/saoe-witness --json",
    "",
    "Exit codes: 0 printed, 1 no initialised state, 2 usage.",
  ].join("\n"),
  options: { state: STATE_OPTION },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      const info = await readWitnessInfo(stateDirOption(ctx));
      ctx.out(
        ctx.global.json
          ? jsonText({ ok: true, name: info.name, vkey: info.vkey })
          : inert(info.vkey),
      );
      return EXIT.ok;
    });
  },
};
