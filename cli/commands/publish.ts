/**
 * `saoe publish FILE` and `saoe publish --tools`: the publishing gate
 * (docs/operations.md, "Publishing"). Shows what changes (a unified diff against
 * the published version), the new version and the sha256 of the exact bytes of
 * FILE, then asks the operator to type that sha256. Only a
 * matching hash publishes; a wrong hash, end of input or Ctrl-C exits 1 with the
 * vault byte-for-byte unchanged. A non-terminal stdin is refused before anything
 * is shown unless `--confirm-sha256 HEX` is given (a script must already know
 * what it publishes: it cannot read the hash off the screen and echo it back).
 *
 * The work is in `core/services/ceremony/publish.ts`; this command renders its plan's
 * before and after texts as the diff (`cli/terminal/diff.ts`), gathers the signing
 * keys (the key store, or `--dispatcher-key FILE` on a home whose dispatcher
 * keys are kept offline), the confirmation, and records the action in the
 * audit ledger as an `operator_action` event
 * (`core/services/ceremony/operator_audit.ts`).
 *
 * @module
 */
import {
  agentCodeOf,
  applyCodePin,
  type CodeRepinPlan,
  prepareCodeRepin,
} from "../../core/services/ceremony/code_pin.ts";
import { verifyAsSupervisor } from "../../core/services/supervisor/agent_commands.ts";
import { isAbsolute, join, relative, resolve } from "node:path";
import { SaoeError } from "../../core/primitives/errors.ts";
import type { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { MAX_TEMPLATE_BYTES } from "../../core/domain/vault/template_types.ts";
import type { HomeLayout } from "../../core/domain/home/layout.ts";
import type { OperatorAction } from "../../core/domain/ledger/operator_action.ts";
import type { VerifiedRoot } from "../../core/domain/trust/chain.ts";
import {
  applyPublish,
  preparePublish,
  type PublishPlan,
} from "../../core/services/ceremony/publish.ts";
import { dispatcherSigners } from "../../core/services/ceremony/dispatcher_signers.ts";
import { confirmSha256, requireSha256 } from "../terminal/confirm_hash.ts";
import { type DiffResult, unifiedDiff } from "../terminal/diff.ts";
import { stdinTerminal } from "../terminal/terminal.ts";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import { ReadOnlyVersionStore } from "../../core/domain/trust/version_store_readonly.ts";
import { supervisorVersionsPath } from "../../core/domain/home/layout.ts";
import { readSmallFile } from "../_support/safe_read.ts";
import { recordOperatorAction } from "../../core/services/ceremony/operator_audit.ts";
import { recordedJson, recordedLine } from "../_support/operator_record.ts";
import { printWitnessing, witnessIfOwn } from "../_support/witness_own_record.ts";
import { repoRoot } from "../_support/repo.ts";
import {
  applyToolRepin,
  prepareToolRepin,
  type ToolRepinPlan,
} from "../../core/services/ceremony/tool_repin.ts";
import { pipelineRunning } from "../_support/pipeline_probe.ts";
import { inert, jsonText } from "../_support/output.ts";
import { patternOption, UsageError, withUsage } from "../_support/usage.ts";
import {
  broughtSeeds,
  DISPATCHER_KEY_OPTIONS,
  type DispatcherKeySource,
  dispatcherKeySource,
} from "../_support/dispatcher_keys.ts";

const PATH = ["publish"];

function inside(parent: string, path: string): boolean {
  const rel = relative(resolve(parent), resolve(path));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** A threshold of the root's dispatcher keys, from the key store or the offline files. */
async function loadSigners(
  home: HomeLayout,
  root: VerifiedRoot,
  from: DispatcherKeySource,
): Promise<SigningKey[]> {
  if (from.files.length === 0) {
    const keys = await openKeyStore(home.keys);
    const seeds = await keys.loadDispatchers();
    if (seeds.length === 0) {
      throw new SaoeError(
        "bad_config",
        `Cannot publish: the dispatcher signing keys are not on this host (${
          join(home.keys, "dispatcher")
        } is empty: the home was created with --offline-dispatcher). Bring the exported key file and pass --dispatcher-key FILE; its passphrase is asked on the terminal, or read from --passphrase-file F`,
      );
    }
    return await dispatcherSigners({ trusted: root.trusted, seeds, from: "the key store" });
  }
  const seeds = await broughtSeeds(from);
  return await dispatcherSigners({
    trusted: root.trusted,
    seeds,
    from: from.files.join(", "),
  });
}

function preview(
  plan: PublishPlan,
  diff: DiffResult,
  file: string,
  show: (line: string) => void,
): void {
  const what = plan.kind === "template" ? `template ${plan.id}` : `capability set of ${plan.id}`;
  const from = plan.publishedVersion === 0 ? "none published" : `${plan.publishedVersion}`;
  show(`Publishing the ${what} from ${inert(file)}`);
  show(`Version:  ${plan.version} (published now: ${from})`);
  show(`Readers:  ${plan.readers.join(", ")} (encrypted to exactly these)`);
  if (diff.lines.length === 0) {
    show("Changes:  none in the content (only the version and signature are new)");
  } else {
    show(`Changes:  ${diff.added} line(s) added, ${diff.removed} removed`);
    for (const line of diff.lines) show(`  ${inert(line)}`);
  }
  for (const note of plan.notes) show(`Note:     ${inert(note)}`);
  show(`sha256:   ${plan.sha256}  (of the exact bytes of ${inert(file)})`);
}

function pickup(running: boolean): string {
  return running
    ? "a pipeline is running on this home: it uses the change after SIGHUP (kill -HUP the saoe pipeline process) or a restart"
    : "no pipeline is running on this home: the next `saoe pipeline` start uses the change";
}

/** The typed-hash gate: the flag's value must match, else the operator types it on the terminal. */
async function confirmShown(expected: string, flag: string | undefined): Promise<void> {
  if (flag !== undefined) requireSha256(expected, flag, "--confirm-sha256");
  else await confirmSha256(stdinTerminal(), expected);
}

function previewTools(plan: ToolRepinPlan, show: (line: string) => void): void {
  show(`Re-pinning the built-in tools to the modules of this checkout`);
  show(`Version:  ${plan.version} (signed now: ${plan.previousVersion})`);
  for (const c of plan.changes) {
    const fields = c.fields.length > 0 ? `; also ${c.fields.join(", ")}` : "";
    show(`  ${c.name} (${c.module}): ${c.from ?? "not pinned"} -> ${c.to ?? "removed"}${fields}`);
  }
  show(`sha256:   ${plan.digest}  (of the new tool list)`);
}

/** `saoe publish --tools`: re-pins the built-in tool modules after the operator confirms. */
async function runTools(
  ctx: CommandContext,
  confirmFlag: string | undefined,
  from: DispatcherKeySource,
) {
  const { home, config } = await openHome(ctx.global.home);
  const clock = systemClock;
  const { root } = await verifyHomeTrust({ home, config, clock });
  const plan = await prepareToolRepin({
    home,
    repo: await Deno.realPath(repoRoot()),
    root,
    clock,
    skewMs: config.skew_ms,
  });
  if (plan.changes.length === 0) {
    const message =
      `Nothing to publish: tool manifest v${plan.previousVersion} already pins the tool modules of this checkout`;
    if (ctx.global.json) {
      ctx.out(jsonText({ ok: true, changed: false, version: plan.previousVersion, message }));
    } else ctx.out(message);
    return EXIT.ok;
  }
  const signers = await loadSigners(home, root, from);
  previewTools(plan, ctx.global.json ? ctx.err : ctx.out);
  await confirmShown(plan.digest, confirmFlag);
  const outcome = await applyToolRepin({
    home,
    plan,
    signers,
    clock,
    validityDays: config.validity.manifest_days,
  });
  return await recordRepin(ctx, {
    home,
    clock,
    label: "tool manifest",
    version: plan.version,
    previousVersion: plan.previousVersion,
    digest: plan.digest,
    outcome,
    confirmFlag,
    action: { tools: plan.changes.map((c) => ({ name: c.name, from: c.from, to: c.to })) },
    json: { changes: plan.changes },
    kind: "publish_tools",
  });
}

function previewCode(plan: CodeRepinPlan, show: (line: string) => void): void {
  show(`Re-pinning the agents' code to the files of this checkout`);
  show(`Version:  ${plan.version} (signed now: ${plan.previousVersion})`);
  const shown = plan.changes.slice(0, 40);
  for (const c of shown) {
    show(`  ${inert(c.path)}: ${c.from ?? "not pinned"} -> ${c.to ?? "removed"}`);
  }
  if (plan.changes.length > shown.length) {
    show(`  … and ${plan.changes.length - shown.length} more file(s)`);
  }
  if (plan.agentsChanged.length > 0) {
    show(`Agents whose file lists change: ${plan.agentsChanged.join(", ")}`);
  }
  show(`sha256:   ${plan.digest}  (of the new code pins)`);
}

/** `saoe publish --code`: re-pins every agent's code after the operator confirms. */
async function runCode(
  ctx: CommandContext,
  confirmFlag: string | undefined,
  from: DispatcherKeySource,
) {
  const { home, config } = await openHome(ctx.global.home);
  const clock = systemClock;
  const repo = await Deno.realPath(repoRoot());
  // the capsets (which tools each agent runs) as the supervisor verifies them
  const view = await verifyAsSupervisor({ home, config, clock, repo });
  const plan = await prepareCodeRepin({
    home: view.home,
    repo,
    agents: agentCodeOf(view.capsets.values(), view.toolManifest),
    dispatcher: view.root.trusted,
    clock,
    skewMs: config.skew_ms,
  });
  if (plan.changes.length === 0 && plan.agentsChanged.length === 0) {
    const message =
      `Nothing to publish: code manifest v${plan.previousVersion} already pins the code of this checkout`;
    if (ctx.global.json) {
      ctx.out(jsonText({ ok: true, changed: false, version: plan.previousVersion, message }));
    } else ctx.out(message);
    return EXIT.ok;
  }
  const signers = await loadSigners(home, view.root, from);
  previewCode(plan, ctx.global.json ? ctx.err : ctx.out);
  await confirmShown(plan.digest, confirmFlag);
  const outcome = await applyCodePin({
    home,
    version: plan.version,
    contents: plan.contents,
    signers,
    clock,
    validityDays: config.validity.manifest_days,
  });
  return await recordRepin(ctx, {
    home,
    clock,
    label: "code manifest",
    version: plan.version,
    previousVersion: plan.previousVersion,
    digest: plan.digest,
    outcome,
    confirmFlag,
    action: { changed_files: plan.changes.length, agents: plan.agentsChanged },
    json: { changes: plan.changes, agents_changed: plan.agentsChanged },
    kind: "publish_code",
  });
}

/** What a re-pin signed, for {@linkcode recordRepin}. */
interface RepinRecord {
  home: HomeLayout;
  clock: typeof systemClock;
  /** `tool manifest` or `code manifest`. */
  label: string;
  version: number;
  previousVersion: number;
  digest: string;
  outcome: { expiresAt: string; path: string };
  confirmFlag: string | undefined;
  kind: "publish_tools" | "publish_code";
  /** The fields of its operator action beyond the common ones. */
  action:
    | Pick<Extract<OperatorAction, { action: "publish_tools" }>, "tools">
    | Pick<Extract<OperatorAction, { action: "publish_code" }>, "changed_files" | "agents">;
  /** The fields of its JSON answer beyond the common ones. */
  json: Record<string, unknown>;
}

/** Records a re-pin in the ledger (or hands it to the running supervisor) and reports it. */
async function recordRepin(ctx: CommandContext, r: RepinRecord): Promise<number> {
  const running = await pipelineRunning(r.home);
  const recorded = await recordOperatorAction(r.home, {
    action: r.kind,
    version: r.version,
    previous_version: r.previousVersion,
    sha256: r.digest,
    ...r.action,
    confirmed_by: r.confirmFlag !== undefined ? "flag" : "terminal",
    files: [r.outcome.path],
    pipeline_running: running,
  } as OperatorAction, { clock: r.clock });
  const witnessing = await witnessIfOwn(r.home.root, recorded.recordedBy);
  if (ctx.global.json) {
    ctx.out(jsonText({
      ok: true,
      changed: true,
      version: r.version,
      previous_version: r.previousVersion,
      sha256: r.digest,
      expires_at: r.outcome.expiresAt,
      ...r.json,
      files: [r.outcome.path],
      pipeline_running: running,
      ...recordedJson(recorded, witnessing),
      pickup: pickup(running),
    }));
    return EXIT.ok;
  }
  ctx.out(`Published ${r.label} version ${r.version} (valid until ${r.outcome.expiresAt})`);
  ctx.out(`Wrote:    ${r.outcome.path}`);
  ctx.out(recordedLine(recorded));
  printWitnessing(ctx, witnessing);
  ctx.out(`Pickup:   ${pickup(running)}`);
  return EXIT.ok;
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.values.tools === true && ctx.values.code === true) {
    throw new UsageError("--tools and --code are separate publications: give one");
  }
  if (ctx.values.tools === true || ctx.values.code === true) {
    if (ctx.positionals.length > 0) {
      throw new UsageError(
        `Unexpected argument ${JSON.stringify(ctx.positionals[0])}: ${
          ctx.values.code === true ? "--code" : "--tools"
        } takes no FILE`,
      );
    }
  } else if (ctx.positionals.length !== 1) {
    throw new UsageError(
      ctx.positionals.length === 0
        ? "Missing FILE (a template or capability set source)"
        : `Unexpected argument ${JSON.stringify(ctx.positionals[1])}`,
    );
  }
  const given = ctx.values["confirm-sha256"];
  const confirmFlag = given === undefined ? undefined : patternOption(
    String(given).toLowerCase(),
    /^[0-9a-f]{64}$/,
    "--confirm-sha256",
    "64 hex characters",
  );
  const { files: keyFiles, passphraseFile } = dispatcherKeySource(ctx);
  if (passphraseFile !== undefined && keyFiles.length === 0) {
    throw new UsageError("--passphrase-file is only used with --dispatcher-key FILE");
  }
  // before anything is computed or shown: a script must not learn the hash here to echo it back
  const terminal = Deno.stdin.isTerminal();
  if (confirmFlag === undefined && !terminal) {
    throw new SaoeError(
      "not_confirmed",
      "Not published: standard input is not a terminal, so nobody can type the sha256; a script must pass the sha256 of the file it means to publish with --confirm-sha256 HEX",
    );
  }
  if (ctx.values.tools === true) {
    return await runTools(ctx, confirmFlag, { files: keyFiles, passphraseFile });
  }
  if (ctx.values.code === true) {
    return await runCode(ctx, confirmFlag, { files: keyFiles, passphraseFile });
  }
  const file = ctx.positionals[0]!;

  const { home, config } = await openHome(ctx.global.home);
  if (inside(home.vault, file)) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot publish ${file}: it is inside the vault ${home.vault}, where plaintext must never be; publish from the reviewed sources outside the home`,
      { file },
    );
  }
  const clock = systemClock;
  const { root, directory } = await verifyHomeTrust({ home, config, clock });
  const keys = await openKeyStore(home.keys);
  const source = await readSmallFile(file, {
    maxBytes: MAX_TEMPLATE_BYTES,
    what: `the source ${file}`,
  });
  const versionStore = new ReadOnlyVersionStore(supervisorVersionsPath(home));
  const signers = await loadSigners(home, root, { files: keyFiles, passphraseFile });
  const plan = await preparePublish({
    home,
    config,
    root,
    directory,
    keys,
    source,
    sourceName: file,
    clock,
    versionStore,
  });
  const diff = unifiedDiff(plan.before, plan.after);
  preview(plan, diff, file, ctx.global.json ? ctx.err : ctx.out);
  await confirmShown(plan.sha256, confirmFlag);

  const outcome = await applyPublish({
    plan,
    home,
    config,
    root,
    directory,
    keys,
    signers,
    clock,
    versionStore,
  });
  const running = await pipelineRunning(home);
  const recorded = await recordOperatorAction(home, {
    action: "publish",
    kind: outcome.kind,
    id: outcome.id,
    version: outcome.version,
    previous_version: outcome.previousVersion,
    sha256: outcome.sha256,
    confirmed_by: confirmFlag !== undefined ? "flag" : "terminal",
    files: outcome.files,
    pipeline_running: running,
  }, { clock });
  const witnessing = await witnessIfOwn(home.root, recorded.recordedBy);
  if (ctx.global.json) {
    ctx.out(jsonText({
      ok: true,
      kind: outcome.kind,
      id: outcome.id,
      version: outcome.version,
      previous_version: outcome.previousVersion,
      sha256: outcome.sha256,
      expires_at: outcome.expiresAt,
      files: outcome.files,
      diff: diff.lines,
      notes: plan.notes,
      pipeline_running: running,
      ...recordedJson(recorded, witnessing),
      pickup: pickup(running),
    }));
    return EXIT.ok;
  }
  const what = outcome.kind === "template"
    ? `template ${outcome.id}`
    : `capability set of ${outcome.id}`;
  ctx.out(`Published the ${what} version ${outcome.version} (valid until ${outcome.expiresAt})`);
  for (const path of outcome.files) ctx.out(`Wrote:    ${path}`);
  ctx.out(recordedLine(recorded));
  printWitnessing(ctx, witnessing);
  ctx.out(`Pickup:   ${pickup(running)}`);
  return EXIT.ok;
}

/** `saoe publish FILE | --tools | --code [--confirm-sha256 HEX] [--dispatcher-key FILE …]`. */
export const publishCommand: Command = {
  path: PATH,
  summary:
    "publish a template, a capability set, the tool pins or the code pins after typing a sha256",
  usage:
    "FILE | --tools | --code [--confirm-sha256 HEX] [--dispatcher-key FILE [--passphrase-file F]]",
  description: [
    "Publishes FILE, a template source (templates/<id>.json shape) or a capability set source",
    "(capsets/<agent>.json shape), into the home's vault. It shows the diff against the version",
    "published now, the new version (it must be higher, else the publish is refused as a",
    "rollback) and the sha256 of the exact bytes of FILE, then asks you to type that sha256.",
    "",
    "Only the right hash publishes. A wrong hash, end of input (Ctrl-D) or Ctrl-C exits 1 and",
    "leaves the vault byte-for-byte unchanged. When standard input is not a terminal the publish",
    "is refused before anything is shown unless --confirm-sha256 HEX gives the hash: a script",
    "must already know what it publishes.",
    "",
    "A template is encrypted to exactly the agents whose current capability sets name it, with a",
    "dispatcher-signed manifest. A capability set is signed with a fresh validity window",
    "(config.json validity.capset_days) and encrypted to its agent, its peers and the supervisor.",
    "Plaintext is never written into the vault. The action is recorded in the audit ledger as an",
    "operator_action event (handed to the running supervisor when a pipeline runs); a running",
    "pipeline uses the change after SIGHUP or a restart.",
    "",
    "--tools re-pins the built-in tools instead: it hashes this checkout's tool modules, shows",
    "each tool whose sha256 differs from the signed tool manifest (old -> new), and after you",
    "type the sha256 of the new tool list signs the next tool manifest version. A home made by",
    "an earlier checkout needs this after a tool changed: until then ToolGate refuses every plan",
    "that uses it (tool_hash_mismatch). Nothing changed: it says so and exits 0.",
    "",
    "--code re-pins the agents' code: for each agent it takes the module graph of its entry and",
    "of the tools it runs (every local module, every file of every npm package reached,",
    "deno.json and deno.lock), shows each file whose sha256 differs from the signed code",
    "manifest, and after you type the sha256 of the new pins signs the next code manifest",
    "version. Until then the supervisor refuses to start an agent whose code changed",
    "(code_hash_mismatch, naming the file); a running pipeline restarts the agents whose pins",
    "changed after SIGHUP.",
    "",
    "Examples:",
    "  deno task saoe publish vault/templates/blog_article_intent.json",
    "  deno task saoe publish --tools",
    "  deno task saoe publish --code --confirm-sha256 <the sha256 shown>",
    "",
    "Signing needs a threshold of the trust root's dispatcher keys: from the home's key store,",
    "or, for a home created with --offline-dispatcher, from --dispatcher-key FILE (the exported",
    "file, repeatable for k-of-n holders; its passphrase is asked on the terminal or read from",
    "--passphrase-file F).",
    "",
    "Exit codes: 0 published, 1 refused (not confirmed, rollback, bad source, keys missing), 2 usage.",
  ].join("\n"),
  options: {
    tools: {
      type: "boolean",
      help: "re-pin the built-in tool modules of this checkout in the signed tool manifest",
    },
    code: {
      type: "boolean",
      help: "re-pin every file of every agent's code in the signed code manifest",
    },
    "confirm-sha256": {
      type: "string",
      value: "HEX",
      help:
        "the sha256 shown (of FILE, of the new tool list, or of the new code pins), for scripts",
    },
    ...DISPATCHER_KEY_OPTIONS,
  },
  run(ctx) {
    return withUsage(PATH, ctx, () => run(ctx));
  },
};
