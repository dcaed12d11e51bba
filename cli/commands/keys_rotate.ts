/**
 * `saoe keys rotate dispatcher|AGENT`: the key rotation ceremonies
 * (`core/services/ceremony/rotate_dispatcher.ts`, `core/services/ceremony/rotate_agent.ts`). A
 * running pipeline picks the result up by itself (the supervisor watches
 * `trust/` and `vault/`; SIGHUP forces it) and restarts its agents one at a
 * time without dropping work.
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { AGENT_ID_RE } from "../../core/primitives/ids/patterns.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { bringDispatcherSeeds } from "../terminal/dispatcher_seeds.ts";
import { promptPassphrase, readPassphraseFile } from "../terminal/passphrase.ts";
import { stdinTerminal } from "../terminal/terminal.ts";
import {
  commitRoot,
  rotateDispatcher,
  type RotateDispatcherResult,
} from "../../core/services/ceremony/rotate_dispatcher.ts";
import type { PendingRootStatus } from "../../core/services/ceremony/rotate_pending.ts";
import { rotateAgent } from "../../core/services/ceremony/rotate_agent.ts";
import { readTrustFile } from "../../core/domain/trust/files.ts";
import { ROOT_MAX_BYTES } from "../../core/domain/trust/root.ts";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { jsonText } from "../_support/output.ts";
import {
  type OwnRecordWitnessing,
  printWitnessing,
  witnessIfOwn,
} from "../_support/witness_own_record.ts";
import { intOption, patternOption, UsageError, withUsage } from "../_support/usage.ts";
import { DISPATCHER_KEY_OPTIONS, dispatcherKeySource } from "../_support/dispatcher_keys.ts";

const PATH = ["keys", "rotate"];

function pickup(recordedBy: string | undefined): string {
  return recordedBy === "supervisor"
    ? "a pipeline is running: it verifies the new state, restarts its agents one at a time and records key_rotated"
    : "no pipeline is running: key_rotated is recorded in the ledger; the next start uses the new keys";
}

/** Lines describing which keys signed a pending root. */
export function pendingLines(status: PendingRootStatus): string[] {
  const sideLines = (label: string, side: PendingRootStatus["current"]) => [
    `${label} (root v${side.version}): ${side.signed} of ${side.threshold} required signatures${
      side.met ? " (met)" : " (NOT met)"
    }`,
    ...side.keys.map((k) => `  ${k.signed ? "signed " : "missing"}  ${k.keyid}`),
  ];
  return [
    `Pending trust root v${status.version} (expires ${status.expires_at})`,
    ...sideLines("Keys of the root in force", status.current),
    ...sideLines("Its own keys", status.next),
    status.ready
      ? "Both thresholds are met: install it with saoe keys rotate dispatcher --commit FILE"
      : "Not ready: add signatures with saoe keys sign-root FILE --key K",
  ];
}

function report(
  ctx: CommandContext,
  result: RotateDispatcherResult,
  file?: string,
  witnessing?: OwnRecordWitnessing,
): void {
  if (ctx.global.json) {
    ctx.out(
      jsonText({ ok: true, kind: "dispatcher", ...result, ...(witnessing ? { witnessing } : {}) }),
    );
    return;
  }
  if (result.state === "pending") {
    ctx.out(`Pending trust root v${result.version} written to ${file}`);
    for (const line of pendingLines(result.status)) ctx.out(line);
    return;
  }
  ctx.out(
    `Trust root v${result.version} is in force: ${result.threshold} of ${result.keyids.length} new dispatcher keys (root v${result.previousVersion} retired)`,
  );
  for (const keyid of result.keyids) ctx.out(`  ${keyid}`);
  const r = result.resigned!;
  ctx.out(
    `Re-signed: ${r.capsets.length} capability sets, ${r.manifests.length} template manifests, tool manifest v${r.toolManifestVersion}, directory v${r.directoryVersion}`,
  );
  ctx.out(`Pickup: ${pickup(result.recordedBy)}`);
  printWitnessing(ctx, witnessing);
}

async function run(ctx: CommandContext): Promise<number> {
  const target = ctx.positionals[0];
  if (target === undefined) throw new UsageError("Missing what to rotate: dispatcher or an AGENT");
  if (ctx.positionals.length > 1) {
    throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[1])}`);
  }
  const { files: keyFiles, passphraseFile } = dispatcherKeySource(ctx);
  const threshold = intOption(ctx.values.threshold, { name: "threshold", min: 1, max: 32 });
  const keys = intOption(ctx.values.keys, { name: "keys", min: 1, max: 32 });
  const pending = ctx.values.pending === undefined ? undefined : String(ctx.values.pending);
  const commit = ctx.values.commit === undefined ? undefined : String(ctx.values.commit);
  const progress = ctx.global.json ? undefined : (line: string) => ctx.err(line);
  const home = ctx.global.home;
  if (target !== "dispatcher") {
    const agent = patternOption(target, AGENT_ID_RE, "AGENT", "dispatcher or an agent id");
    if (
      threshold !== undefined || keys !== undefined || pending !== undefined ||
      commit !== undefined || ctx.values.export !== undefined
    ) {
      throw new UsageError(
        "--threshold, --keys, --pending, --commit and --export apply to dispatcher only",
      );
    }
    const dispatcherSeeds = await bringDispatcherSeeds({
      files: keyFiles,
      ...(passphraseFile !== undefined ? { passphraseFile } : {}),
    });
    const result = await rotateAgent({
      home,
      agent,
      clock: systemClock,
      dispatcherSeeds,
      ...(progress !== undefined ? { progress } : {}),
    });
    const witnessing = await witnessIfOwn(home, result.recordedBy);
    if (ctx.global.json) {
      ctx.out(
        jsonText({ ok: true, kind: "agent", ...result, ...(witnessing ? { witnessing } : {}) }),
      );
    } else {
      ctx.out(
        `New keys for "${agent}": signing key ${result.keyid}; directory v${result.directoryVersion}`,
      );
      if (result.retired.length > 0) {
        ctx.out(`Retired now (signatures by them are refused as revoked_key):`);
        for (const keyid of result.retired) ctx.out(`  ${keyid}`);
      }
      ctx.out(
        `Re-encrypted: ${result.capsets.length} capability sets, ${result.templates.length} templates`,
      );
      ctx.out(`Pickup: ${pickup(result.recordedBy)}`);
      printWitnessing(ctx, witnessing);
    }
    return EXIT.ok;
  }
  if (pending !== undefined && commit !== undefined) {
    throw new UsageError("--pending and --commit are two steps: give one of them");
  }
  if (commit !== undefined && (threshold !== undefined || keys !== undefined)) {
    throw new UsageError("--threshold and --keys are fixed by the pending root: omit them");
  }
  const exportPath = ctx.values.export === undefined ? undefined : String(ctx.values.export);
  if (exportPath !== undefined && pending !== undefined) {
    throw new UsageError("--export applies when the root is installed (directly or with --commit)");
  }
  const dispatcherSeeds = await bringDispatcherSeeds({
    files: keyFiles,
    ...(passphraseFile !== undefined ? { passphraseFile } : {}),
  });
  let exportTo: { path: string; passphrase: string } | undefined;
  if (exportPath !== undefined) {
    let passphrase: string;
    if (passphraseFile !== undefined) passphrase = await readPassphraseFile(passphraseFile);
    else if (Deno.stdin.isTerminal()) {
      passphrase = await promptPassphrase(stdinTerminal(), {
        what: `the new dispatcher key file ${exportPath}`,
        confirm: true,
      });
    } else {
      throw new SaoeError(
        "bad_credential",
        `Cannot export the new dispatcher keys to ${exportPath}: standard input is not a terminal to ask a passphrase on (use --passphrase-file F)`,
      );
    }
    exportTo = { path: exportPath, passphrase };
  }
  if (commit !== undefined) {
    const bytes = await readTrustFile(commit, ROOT_MAX_BYTES).catch((err: unknown) => {
      throw err instanceof SaoeError
        ? new SaoeError(err.code, `Cannot read the pending root: ${err.message}`, { file: commit })
        : err;
    });
    const result = await commitRoot({
      home,
      clock: systemClock,
      bytes,
      dispatcherSeeds,
      ...(exportTo !== undefined ? { exportTo } : {}),
      ...(progress !== undefined ? { progress } : {}),
    });
    report(ctx, result, undefined, await witnessIfOwn(home, result.recordedBy));
    return EXIT.ok;
  }
  const result = await rotateDispatcher({
    home,
    clock: systemClock,
    dispatcherSeeds,
    ...(exportTo !== undefined ? { exportTo } : {}),
    ...(threshold !== undefined ? { threshold } : {}),
    ...(keys !== undefined ? { keys } : {}),
    ...(pending !== undefined ? { pendingFile: pending } : {}),
    ...(progress !== undefined ? { progress } : {}),
  });
  report(ctx, result, pending, await witnessIfOwn(home, result.recordedBy));
  return EXIT.ok;
}

/** `saoe keys rotate dispatcher|AGENT`. */
export const keysRotateCommand: Command = {
  path: PATH,
  summary: "rotate the dispatcher keys (new trust root) or one agent's keys",
  usage:
    "dispatcher [--threshold K --keys N] [--pending FILE | --commit FILE] [--export FILE] | AGENT  [--dispatcher-key FILE [--passphrase-file F]]",
  description: [
    "dispatcher: generates N new dispatcher keys (default: as many as the root in force) and",
    "trust root v(N+1) requiring K of them (default: the current threshold), signed by a",
    "threshold of the current root's keys AND a threshold of its own; then re-signs every",
    "capability set, template manifest, the tool manifest and the agent key directory with",
    "the new keys. The old seeds are kept encrypted under keys/dispatcher/retired/; a statement",
    "signed only by them is refused (dispatcher_signature).",
    "",
    "Off-host dispatcher (homes made with --offline-dispatcher): bring the current keys with",
    "--dispatcher-key FILE and add --export NEWFILE: the new keys are written there, encrypted",
    "with the passphrase (--passphrase-file F, or asked twice on the terminal), and none is kept",
    "on this host.",
    "",
    "k of n, keys on several hosts: --pending FILE writes root v(N+1) with the signatures",
    'available here; each holder adds theirs with "saoe keys sign-root FILE --key K";',
    '"saoe keys status --pending FILE" shows who signed; --commit FILE installs it once both',
    "thresholds are met (refused before, nothing written).",
    "",
    "AGENT: new signing key and age identity for the agent (or the supervisor, only while no",
    "pipeline runs); directory v(N+1) closes the old key's window now (its later signatures",
    "are refused as revoked_key); every vault entry is re-encrypted for the new recipients.",
    "",
    "A running pipeline applies the change by itself (it watches trust/ and vault/; SIGHUP",
    "forces a check): it re-verifies, restarts its agents one at a time (each drains its",
    "in-flight work) and records key_rotated. With no pipeline running the ceremony records",
    "key_rotated in the ledger itself.",
    "",
    "Exit codes: 0 done, 1 refused (thresholds, keys missing, verification), 2 usage.",
  ].join("\n"),
  options: {
    threshold: { type: "string", value: "K", help: "signatures the new root requires" },
    keys: { type: "string", value: "N", help: "dispatcher keys the new root lists" },
    pending: {
      type: "string",
      value: "FILE",
      help: "write the new root to FILE for more signatures instead of installing it",
    },
    commit: {
      type: "string",
      value: "FILE",
      help: "install the pending root in FILE (both thresholds must be met)",
    },
    export: {
      type: "string",
      value: "FILE",
      help: "write the new dispatcher keys to FILE (passphrase-encrypted), keep none here",
    },
    ...DISPATCHER_KEY_OPTIONS,
  },
  run(ctx) {
    return withUsage(PATH, ctx, () => run(ctx));
  },
};
