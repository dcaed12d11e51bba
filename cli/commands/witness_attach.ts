/**
 * `saoe witness attach`: gives a home a witness. By default a local one (its
 * state created, or reused, outside the home), which learns the home's log and
 * which the supervisor then starts itself; with `--url URL --vkey VKEY`, a
 * witness run elsewhere, whose operator registers the home's log with the
 * `add-log` line this command prints.
 *
 * @module
 */
import { systemClock } from "../../core/primitives/time/clock.ts";
import { SUPERVISOR_ID } from "../../core/domain/home/layout.ts";
import { logOrigin } from "../../core/domain/ledger/log_identity.ts";
import { verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import {
  addConfigWitness,
  attachLocalWitness,
  logVkey,
} from "../../core/services/witness/attach.ts";
import { parseVkey } from "../../core/primitives/note/vkey.ts";
import { SaoeError } from "../../core/primitives/errors.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { inert, jsonText, shellQuote } from "../_support/output.ts";
import { pipelineRunning } from "../_support/pipeline_probe.ts";
import { UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["witness", "attach"];

/** `saoe witness attach`. */
export const witnessAttachCommand: Command = {
  path: PATH,
  summary: "give a home a witness (a local one by default)",
  usage: "[--state DIR] | --url URL --vkey VKEY [--threshold K]",
  description: [
    "Names a witness in the home's config.json, so its ledger checkpoints are cosigned:",
    "",
    "  local (default)  creates a witness state in --state DIR (default <home>.witness, beside",
    "                   the home; never inside it), or reuses one, registers the home's log with",
    "                   it, and lets the supervisor start it on a port the system assigns",
    "  remote           --url URL --vkey VKEY names a witness run elsewhere (as another user or",
    "                   on another host); its operator registers this home's log with the",
    "                   printed saoe witness add-log line",
    "",
    "--threshold K sets how many of the configured witnesses must cosign (default: unchanged,",
    "1 for the first). Refused while the pipeline runs (restart it to use the new witness).",
    "",
    "Examples:",
    "  deno task saoe witness attach --home .saoe",
    "  deno task saoe witness attach --url https://witness.example/w1 --vkey 'witness.example/w1+1a2b3c4d+BA…'",
    "",
    "Exit codes: 0 attached, 1 refused, 2 usage.",
  ].join("\n"),
  options: {
    state: { type: "string", value: "DIR", help: "the local witness's state directory" },
    url: { type: "string", value: "URL", help: "a remote witness's URL" },
    vkey: { type: "string", value: "VKEY", help: "a remote witness's cosignature key (type 0x04)" },
    threshold: { type: "string", value: "K", help: "cosignatures required" },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.positionals.length > 0) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
      }
      const url = ctx.values.url as string | undefined;
      const vkey = ctx.values.vkey as string | undefined;
      const state = ctx.values.state as string | undefined;
      if ((url === undefined) !== (vkey === undefined)) {
        throw new UsageError("A remote witness needs both --url and --vkey");
      }
      if (url !== undefined && state !== undefined) {
        throw new UsageError("--state names a local witness; --url and --vkey a remote one");
      }
      const thresholdText = ctx.values.threshold as string | undefined;
      const threshold = thresholdText === undefined ? undefined : Number(thresholdText);
      if (threshold !== undefined && !(Number.isSafeInteger(threshold) && threshold >= 1)) {
        throw new UsageError(`--threshold expects a positive number, got ${thresholdText}`);
      }
      const { home, config } = await openHome(ctx.global.home);
      if (await pipelineRunning(home)) {
        throw new SaoeError(
          "bad_config",
          "Cannot attach a witness while the pipeline runs: stop it, attach, and start it again",
        );
      }
      const { directory } = await verifyHomeTrust({ home, config, clock: systemClock });
      const keys = directory.senderKeys(SUPERVISOR_ID, systemClock.now());
      if (keys.status !== "ok" || keys.current.length === 0) {
        throw new SaoeError("revoked_key", "The supervisor holds no current key in the directory");
      }
      const supervisorKey = keys.current[0]!;
      const origin = logOrigin(config.root_pin);
      const logKey = logVkey(config.root_pin, supervisorKey);
      if (url !== undefined) {
        const parsed = parseVkey(vkey!);
        if (parsed.type !== 0x04) {
          throw new UsageError("--vkey must be the witness's cosignature key (type 0x04)");
        }
        if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url)) {
          throw new UsageError(`--url expects http(s)://HOST[:PORT][/PATH], got ${url}`);
        }
        await addConfigWitness(home, { name: parsed.name, vkey: vkey!, url }, threshold);
        const line = `saoe witness add-log --state DIR --origin ${shellQuote(origin)} --vkey ${
          shellQuote(logKey)
        }`;
        if (ctx.global.json) {
          ctx.out(jsonText({ ok: true, witness: parsed.name, url, origin, log_vkey: logKey }));
        } else {
          ctx.out(`Witness ${inert(parsed.name)} at ${inert(url)} named in ${home.config}.`);
          ctx.out("Its operator registers this home's log with:");
          ctx.out(`  ${line}`);
        }
        return EXIT.ok;
      }
      const attached = await attachLocalWitness({
        home,
        config,
        supervisorKey,
        ...(state !== undefined ? { state } : {}),
      });
      if (threshold !== undefined) {
        await addConfigWitness(
          home,
          attached.config.witnesses!.list.find((w) => w.name === attached.name)!,
          threshold,
        );
      }
      if (ctx.global.json) {
        ctx.out(jsonText({
          ok: true,
          witness: attached.name,
          state: attached.state,
          created: attached.created,
          origin,
          vkey: attached.vkey,
        }));
      } else {
        ctx.out(
          `Witness ${attached.name} ${
            attached.created ? "created" : "reused"
          } with its state in ${attached.state}; it knows this home's log ${origin}.`,
        );
        ctx.out(
          "The supervisor starts it with the pipeline. For production, run it as another user",
        );
        ctx.out("or on another host and attach it with --url and --vkey (docs/witness.md).");
      }
      return EXIT.ok;
    });
  },
};
