/**
 * `saoe audit verify-proof FILE`: checks a proof bundle from `saoe audit prove`
 * offline: its checkpoint against the home's log keys (from the verified agent
 * key directory) and witness policy (from `config.json`), then every hash of
 * every proof up to the checkpoint's root. Nothing in the bundle is trusted.
 *
 * @module
 */
import { systemClock } from "../../core/primitives/time/clock.ts";
import { logOrigin } from "../../core/domain/ledger/log_identity.ts";
import { parseProofBundle, verifyProofBundle } from "../../core/domain/ledger/proof_bundle.ts";
import { checkpointKeys, verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import { witnessPolicy } from "../../core/services/witness/policy.ts";
import { toHex } from "../../core/primitives/crypto/bytes.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { jsonText } from "../_support/output.ts";
import { readSmallFile } from "../_support/safe_read.ts";
import { UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["audit", "verify-proof"];

/** `saoe audit verify-proof`. */
export const auditVerifyProofCommand: Command = {
  path: PATH,
  summary: "check a proof bundle offline against the home's keys and witnesses",
  usage: "FILE",
  description: [
    "Checks a bundle written by saoe audit prove: the checkpoint's log signature against the",
    "supervisor's keys in the verified agent key directory, its witness cosignatures against",
    "the policy in config.json (when the bundle says it was witnessed), then each inclusion",
    "proof (from the record's exact bytes) and the consistency proof up to the signed root.",
    "The ledger itself is not read: the bundle stands on its own.",
    "",
    "Example:",
    "  deno task saoe audit verify-proof proof.json",
    "",
    "Exit codes: 0 every proof verified, 1 a proof or signature does not verify, 2 usage.",
  ].join("\n"),
  options: {},
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      const [file, ...rest] = ctx.positionals;
      if (file === undefined) throw new UsageError("Name the proof file");
      if (rest.length > 0) throw new UsageError(`Unexpected argument ${JSON.stringify(rest[0])}`);
      const { home, config } = await openHome(ctx.global.home);
      const { directory } = await verifyHomeTrust({ home, config, clock: systemClock });
      const bundle = parseProofBundle(
        await readSmallFile(file, { maxBytes: 64 * 1024 * 1024, what: "proof file" }),
      );
      const result = await verifyProofBundle(bundle, {
        origin: logOrigin(config.root_pin),
        logKeys: checkpointKeys(directory, systemClock.now()),
        ...(bundle.witnessed === true ? { policy: witnessPolicy(config) } : {}),
      });
      const witnessedText = bundle.witnessed === true
        ? `cosigned by ${result.cosigners.join(", ")}`
        : "NOT witnessed (signed by the log key only)";
      if (ctx.global.json) {
        ctx.out(jsonText({
          ok: true,
          tree_size: result.head.size,
          root: toHex(result.head.root),
          witnessed: bundle.witnessed === true,
          cosigners: result.cosigners,
          included: result.included,
          ...(result.consistentFrom !== undefined
            ? { consistent_from: result.consistentFrom }
            : {}),
        }));
      } else {
        ctx.out(
          `ok: checkpoint of ${result.head.size} records (${witnessedText}); ${result.included.length} record(s) proven included${
            result.consistentFrom !== undefined
              ? `; the tree of ${result.consistentFrom} records is a prefix`
              : ""
          }`,
        );
      }
      return EXIT.ok;
    });
  },
};
