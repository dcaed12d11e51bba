/**
 * `saoe keys revoke AGENT`: removes every key of an agent from the key
 * directory (`core/services/ceremony/keys_revoke.ts`). A running pipeline stops the
 * agent at once, does not restart it (status `revoked`) and restarts the others
 * so they refuse its envelopes (`revoked_key`).
 *
 * @module
 */
import { AGENT_ID_RE } from "../../core/primitives/ids/patterns.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { revokeAgent } from "../../core/services/ceremony/keys_revoke.ts";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { jsonText } from "../_support/output.ts";
import { printWitnessing, witnessIfOwn } from "../_support/witness_own_record.ts";
import { patternOption, UsageError, withUsage } from "../_support/usage.ts";
import {
  broughtSeeds,
  DISPATCHER_KEY_OPTIONS,
  dispatcherKeySource,
} from "../_support/dispatcher_keys.ts";

const PATH = ["keys", "revoke"];

async function run(ctx: CommandContext): Promise<number> {
  const given = ctx.positionals[0];
  if (given === undefined) throw new UsageError("Missing AGENT");
  if (ctx.positionals.length > 1) {
    throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[1])}`);
  }
  const agent = patternOption(given, AGENT_ID_RE, "AGENT", "an agent id such as planner");
  const dispatcherSeeds = await broughtSeeds(dispatcherKeySource(ctx));
  const result = await revokeAgent({
    home: ctx.global.home,
    agent,
    clock: systemClock,
    dispatcherSeeds,
    ...(ctx.global.json ? {} : { progress: (line: string) => ctx.err(line) }),
  });
  const witnessing = await witnessIfOwn(ctx.global.home, result.recordedBy);
  if (ctx.global.json) {
    ctx.out(jsonText({ ok: true, ...result, ...(witnessing ? { witnessing } : {}) }));
    return EXIT.ok;
  }
  ctx.out(
    `Revoked "${agent}": directory v${result.directoryVersion} lists no key for it (${result.removed.length} removed)`,
  );
  ctx.out(
    result.recordedBy === "supervisor"
      ? "Pickup: a pipeline is running: it stops the agent now, restarts the others and records key_rotated"
      : "Pickup: no pipeline is running: key_rotated is recorded; the agent will not be started",
  );
  printWitnessing(ctx, witnessing);
  ctx.out(`Re-admit it with new keys: saoe keys rotate ${agent}`);
  return EXIT.ok;
}

/** `saoe keys revoke AGENT`. */
export const keysRevokeCommand: Command = {
  path: PATH,
  summary: "revoke every key of an agent (its envelopes are refused at once)",
  usage: "AGENT [--dispatcher-key FILE [--passphrase-file F]]",
  description: [
    "Removes every key of AGENT from the agent key directory (directory v(N+1), signed by the",
    "dispatcher keys), re-encrypts the vault without it and deletes its secrets from the key",
    "store. A running pipeline stops AGENT immediately and does not restart it (saoe status",
    "shows it revoked), then restarts the other agents one at a time so each loads the new",
    "directory and refuses AGENT's envelopes with revoked_key. The supervisor cannot be revoked.",
    'Re-admit a revoked agent with new keys: "saoe keys rotate AGENT".',
    "",
    "Exit codes: 0 revoked, 1 refused, 2 usage.",
  ].join("\n"),
  options: {
    ...DISPATCHER_KEY_OPTIONS,
  },
  run(ctx) {
    return withUsage(PATH, ctx, () => run(ctx));
  },
};
