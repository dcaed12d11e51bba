/**
 * `saoe keys renew [root|directory|capsets|manifests|tools|all]…`: re-signs the
 * named statements with fresh validity windows and the keys in force
 * (`core/services/ceremony/renew.ts`); what the supervisor's refusal to start on an
 * expired statement names as its fix.
 *
 * @module
 */
import { systemClock } from "../../core/primitives/time/clock.ts";
import {
  RENEW_TARGETS,
  renewStatements,
  type RenewTarget,
} from "../../core/services/ceremony/renew.ts";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { jsonText } from "../_support/output.ts";
import { printWitnessing, witnessIfOwn } from "../_support/witness_own_record.ts";
import { UsageError, withUsage } from "../_support/usage.ts";
import {
  broughtSeeds,
  DISPATCHER_KEY_OPTIONS,
  dispatcherKeySource,
} from "../_support/dispatcher_keys.ts";

const PATH = ["keys", "renew"];

function targetsOf(words: readonly string[]): RenewTarget[] {
  if (words.length === 0) return [...RENEW_TARGETS];
  const out = new Set<RenewTarget>();
  for (const word of words) {
    if (word === "all") RENEW_TARGETS.forEach((t) => out.add(t));
    else if ((RENEW_TARGETS as readonly string[]).includes(word)) out.add(word as RenewTarget);
    else {
      throw new UsageError(
        `Unknown statement kind ${JSON.stringify(word.slice(0, 40))}: expected ${
          RENEW_TARGETS.join(", ")
        } or all`,
      );
    }
  }
  return [...out];
}

async function run(ctx: CommandContext): Promise<number> {
  const targets = targetsOf(ctx.positionals);
  const dispatcherSeeds = await broughtSeeds(dispatcherKeySource(ctx));
  const result = await renewStatements({
    home: ctx.global.home,
    clock: systemClock,
    targets,
    dispatcherSeeds,
    ...(ctx.global.json ? {} : { progress: (line: string) => ctx.err(line) }),
  });
  const witnessing = await witnessIfOwn(ctx.global.home, result.recordedBy);
  if (ctx.global.json) {
    ctx.out(
      jsonText({ ok: true, renewed: targets, ...result, ...(witnessing ? { witnessing } : {}) }),
    );
    return EXIT.ok;
  }
  ctx.out(`Renewed: ${targets.join(", ")}`);
  ctx.out(
    result.recordedBy === "supervisor"
      ? "Pickup: a pipeline is running: it verifies the new state and restarts its agents one at a time"
      : "Pickup: no pipeline is running: the next start uses the renewed statements",
  );
  printWitnessing(ctx, witnessing);
  return EXIT.ok;
}

/** `saoe keys renew`. */
export const keysRenewCommand: Command = {
  path: PATH,
  summary: "re-sign statements with fresh validity windows (same keys)",
  usage:
    "[root|directory|capsets|manifests|tools|all]… [--dispatcher-key FILE [--passphrase-file F]]",
  description: [
    "Re-signs the named statements (default: all) with the dispatcher keys in force and fresh",
    "validity windows (config.json validity.*_days): root becomes root v(N+1) with the same",
    "keys and threshold; the directory, each capability set, the tool manifest and the code",
    "manifest (with tools: same pins, new window) get version +1 (a later saoe publish of a",
    "capset source must carry a higher version still); template",
    "manifests are re-signed at their template's version. Works on an expired home: each",
    "statement must still verify against the root in force, only its expiry is forgiven.",
    "A running pipeline applies the result by itself and restarts its agents one at a time.",
    "",
    "Exit codes: 0 renewed, 1 refused, 2 usage.",
  ].join("\n"),
  options: {
    ...DISPATCHER_KEY_OPTIONS,
  },
  run(ctx) {
    return withUsage(PATH, ctx, () => run(ctx));
  },
};
