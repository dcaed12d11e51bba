/**
 * `saoe witness init`: creates a witness state directory (mode 0700) with a new
 * Ed25519 key and an empty list of logs, and prints the witness's vkey.
 *
 * @module
 */
import { initWitnessState } from "../../core/services/witness/state.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { inert, jsonText } from "../_support/output.ts";
import { withUsage } from "../_support/usage.ts";
import { requiredOption, STATE_OPTION, stateDirOption } from "../_support/witness_state_option.ts";

const PATH = ["witness", "init"];

/** `saoe witness init`. */
export const witnessInitCommand: Command = {
  path: PATH,
  summary: "create a witness state directory with a new key",
  usage: "--state DIR --name NAME [--force]",
  description: [
    "Creates the state directory of an independent witness (docs/witness.md): mode 0700, a new",
    "Ed25519 key in witness.key (mode 0600) and witness.db, which records the logs the witness",
    "knows and the latest checkpoint it cosigned for each. NAME is the witness's key name, a",
    "schema-less URL such as witness.example/alice. The directory must lie outside every SAOE",
    "home and be empty or absent; --force replaces the witness files of a non-empty one, which",
    "retires the old witness for good (its key is gone): remove its vkey from every home.",
    "",
    "Run it as the user that will run the witness, e.g. a service user (docs/witness.md).",
    "",
    "Examples:",
    "  saoe witness init --state /var/lib/saoe-witness --name witness.example/alice",
    "  saoe witness init --state ./w2 --name witness.local/w2 --json",
    "",
    "Exit codes: 0 created, 1 refused (not empty, inside a home, bad name), 2 usage.",
  ].join("\n"),
  options: {
    state: STATE_OPTION,
    name: {
      type: "string",
      value: "NAME",
      help: "the witness's key name, e.g. witness.example/w1",
    },
    force: { type: "boolean", help: "replace the witness files of a non-empty directory" },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      const dir = stateDirOption(ctx);
      const name = requiredOption(ctx, "name", "the witness's key name, e.g. witness.example/w1");
      const made = await initWitnessState({ dir, name, force: ctx.values.force === true });
      if (ctx.global.json) {
        ctx.out(jsonText({
          ok: true,
          state: made.paths.dir,
          name: made.name,
          vkey: made.vkey,
          ...(made.replaced !== undefined ? { retired_vkey: made.replaced.vkey } : {}),
        }));
        return EXIT.ok;
      }
      if (made.replaced !== undefined) {
        ctx.err(
          `saoe witness init: replaced the witness ${
            inert(made.replaced.name)
          }; it is retired: remove ${inert(made.replaced.vkey)} from every home that trusts it`,
        );
      }
      ctx.out(`Witness ${inert(made.name)} initialised in ${inert(made.paths.dir)}`);
      ctx.out(`  vkey: ${inert(made.vkey)}`);
      ctx.out(
        `Next: saoe witness add-log --state ${
          inert(made.paths.dir)
        } --origin ORIGIN --vkey LOG_VKEY, then saoe witness serve --state ${
          inert(made.paths.dir)
        }`,
      );
      return EXIT.ok;
    });
  },
};
