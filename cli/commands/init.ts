/**
 * `saoe init`: creates a home (keys, trust root, agent key directory, the signed
 * and encrypted vault published from the repository's reviewed `vault/` sources,
 * the signed tool manifest, an operator credential, `config.json` with the root
 * pin). The work is `initHome()` in `core/services/ceremony/init_home.ts`; this command
 * adds the operator's checks and the report.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../core/primitives/errors.ts";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { homeLayout } from "../../core/domain/home/layout.ts";
import { operatorTokenPath } from "../../core/domain/keys/operator_token.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { repoRoot, vaultSources } from "../_support/repo.ts";
import { intOption, UsageError, withUsage } from "../_support/usage.ts";
import { pipelineRunning } from "../_support/pipeline_probe.ts";
import { jsonText, shellQuote } from "../_support/output.ts";
import { checkExportPassphrase } from "../../core/services/ceremony/dispatcher_export.ts";
import { promptPassphrase, readPassphraseFile } from "../terminal/passphrase.ts";
import { stdinTerminal } from "../terminal/terminal.ts";

const PATH = ["init"];

/** The export passphrase: from `--passphrase-file`, else typed twice on the terminal. */
async function exportPassphrase(file: string | undefined, exportPath: string): Promise<string> {
  let passphrase: string;
  if (file !== undefined) {
    passphrase = await readPassphraseFile(file);
  } else if (Deno.stdin.isTerminal()) {
    passphrase = await promptPassphrase(stdinTerminal(), {
      what: `the dispatcher key file ${exportPath}`,
      confirm: true,
    });
  } else {
    throw new SaoeError(
      "bad_credential",
      "Cannot export the dispatcher keys: standard input is not a terminal to ask the passphrase on (use --passphrase-file F)",
    );
  }
  checkExportPassphrase(passphrase);
  return passphrase;
}

/** `saoe init [--force] [--threshold k --keys n] [--offline-dispatcher --export FILE]`. */
export const initCommand: Command = {
  path: PATH,
  summary: "create a home: keys, trust root, signed vault, operator credential",
  usage:
    "[--force] [--threshold K --keys N] [--offline-dispatcher --export FILE [--passphrase-file F]]",
  description: [
    "Creates a SAOE home in --home (default $SAOE_HOME or ./.saoe): dispatcher keys and trust",
    "root v1 (K of N signatures, default 1 of 1), agent keys and age identities (encrypted under",
    "keys/, never readable by an agent), the signed agent key directory, every template and",
    "capability set from the repository's vault/ sources published encrypted and signed, the",
    "signed tool manifest, an operator credential (keys/operator-operator.token) and config.json",
    "with the root pin.",
    "",
    "An existing home is refused. --force resets it first: it DELETES the home's keys, trust root,",
    "vault, ledger (with its WAL), queues, agent stores, uploads, media and output. It is refused",
    "while a pipeline runs on the home.",
    "",
    "--offline-dispatcher --export FILE keeps the dispatcher signing keys off this host: they sign",
    "everything init signs, are written to FILE (outside the home, never overwritten) encrypted",
    "with a passphrase (typed twice, or read from --passphrase-file F), and are not kept in",
    "keys/dispatcher/. The pipeline runs with public material only; `saoe publish` then needs",
    "--dispatcher-key FILE. See docs/operations.md.",
    "",
    "Exit codes: 0 created, 1 refused (existing home, running pipeline, bad sources), 2 usage.",
  ].join("\n"),
  options: {
    force: { type: "boolean", help: "reset an existing home (deletes keys, ledger and queues)" },
    threshold: { type: "string", value: "K", help: "dispatcher signatures required (default 1)" },
    keys: { type: "string", value: "N", help: "dispatcher keys to create (default K)" },
    "offline-dispatcher": {
      type: "boolean",
      help: "export the dispatcher keys (--export FILE) instead of keeping them in the home",
    },
    export: {
      type: "string",
      value: "FILE",
      help: "where --offline-dispatcher writes the passphrase-encrypted dispatcher keys",
    },
    "passphrase-file": {
      type: "string",
      value: "F",
      help: "read the export passphrase from F instead of the terminal",
    },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.positionals.length > 0) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
      }
      const threshold = intOption(ctx.values.threshold, { name: "threshold", min: 1, max: 32 });
      const keys = intOption(ctx.values.keys, { name: "keys", min: 1, max: 32 });
      if (threshold !== undefined && keys !== undefined && keys < threshold) {
        throw new UsageError(
          `Invalid --keys ${keys}: it must be at least --threshold ${threshold}`,
        );
      }
      const offline = ctx.values["offline-dispatcher"] === true;
      const exportPath = ctx.values.export === undefined ? undefined : String(ctx.values.export);
      const passphraseFile = ctx.values["passphrase-file"] === undefined
        ? undefined
        : String(ctx.values["passphrase-file"]);
      if (offline && exportPath === undefined) {
        throw new UsageError("--offline-dispatcher needs --export FILE (where the keys go)");
      }
      if (!offline && (exportPath !== undefined || passphraseFile !== undefined)) {
        throw new UsageError(
          "--export and --passphrase-file are only used with --offline-dispatcher",
        );
      }
      const force = ctx.values.force === true;
      const home = homeLayout(ctx.global.home);
      if (force && await pipelineRunning(home)) {
        throw new SaoeError(
          "bad_config",
          `Cannot reset ${home.root}: a pipeline is running on it (stop it with Ctrl-C first)`,
        );
      }
      const progress = (line: string) => ctx.global.json ? ctx.err(line) : ctx.out(line);
      // asked before anything is created: a typo or Ctrl-C here leaves no half-made home
      const offlineDispatcher = exportPath === undefined ? undefined : {
        exportPath,
        passphrase: await exportPassphrase(passphraseFile, exportPath),
      };
      const created = await initHome({
        home: home.root,
        sources: vaultSources(),
        repo: repoRoot(),
        clock: systemClock,
        force,
        progress,
        ...(threshold !== undefined ? { threshold } : {}),
        ...(keys !== undefined ? { keys } : {}),
        ...(offlineDispatcher !== undefined ? { offlineDispatcher } : {}),
      });
      const credential = operatorTokenPath(home.keys, "operator");
      // `deno task pipeline` runs from the repository with the default home ./.saoe
      const next = home.root === join(repoRoot(), ".saoe")
        ? "deno task pipeline"
        : `deno task saoe pipeline --home ${shellQuote(home.root)}`;
      if (ctx.global.json) {
        ctx.out(jsonText({
          ok: true,
          home: home.root,
          root_pin: created.config.root_pin,
          credential_file: credential,
          agents: created.agents,
          templates: created.templates,
          ...(exportPath !== undefined ? { dispatcher_key_file: exportPath } : {}),
          next,
        }));
        return EXIT.ok;
      }
      ctx.out("");
      ctx.out(`Home:                ${home.root}`);
      ctx.out(`Root pin:            ${created.config.root_pin} (config.json)`);
      ctx.out(`Agents:              ${created.agents.join(", ")}`);
      ctx.out(`Operator credential: ${credential}`);
      ctx.out("                     (secret, mode 0600; saoe submit reads it from there)");
      if (exportPath !== undefined) {
        ctx.out(`Dispatcher keys:     ${exportPath}`);
        ctx.out(
          "                     (passphrase-encrypted, NOT kept in the home: move it off this",
        );
        ctx.out("                     host; saoe publish --dispatcher-key FILE needs it)");
      }
      ctx.out(`Next:                ${next}`);
      return EXIT.ok;
    });
  },
};
