/**
 * `saoe publish`: the publishing gate (docs/operations.md). Two steps with the operator's
 * confirmation between them, so that nothing is written until a person (or a
 * script that already knows the hash) has approved the exact bytes:
 *
 * 1. {@linkcode preparePublish} reads only. It decodes the source, reads what is
 *    published now (signature-verified against the trust root in force), refuses
 *    a version that does not increase (`rollback`), and returns the plan: the text
 *    published now and the text that will be (the CLI shows the diff), the sha256
 *    of the exact new bytes, and who will be able to read the result.
 * 2. {@linkcode applyPublish} signs and writes: a template is encrypted to exactly
 *    the agents whose current capability sets name it, with a dispatcher-signed
 *    manifest; a capability set is signed with a fresh validity window and
 *    encrypted to its agent, its peers and the supervisor (as `saoe init` does).
 *
 * Plaintext never touches the vault folder: encryption happens in memory and only
 * age ciphertext and signed manifests are written (atomically).
 *
 * Which identity reads the published template for the diff: the supervisor is
 * deliberately not a template recipient (it never needs template contents), so
 * the ceremony decrypts with the age identity, from the key store, of an agent
 * that reads the template. Adding the supervisor to every template would widen
 * who can read templates for the sake of a diff.
 *
 * Capability sets are diffed as pretty-printed JSON of their source fields (the
 * published one is a signed statement, not the file the operator edited);
 * templates are diffed byte for byte as text.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { HomeConfig } from "../../domain/home/config.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import type { KeyStore } from "../../domain/keys/keystore.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { VerifiedRoot } from "../../domain/trust/chain.ts";
import type { AgentDirectory } from "../../domain/trust/agent_directory.ts";
import type { VersionStore } from "../../domain/trust/version_store.ts";
import { type Capset, type CapsetSource, decodeCapsetSource } from "../../domain/capset/types.ts";
import { signCapset } from "../../domain/capset/sign.ts";
import { capsetVersionKey, verifyCapset } from "../../domain/capset/verify.ts";
import { publishCapset, publishTemplate } from "../../domain/vault/publish.ts";
import { parsePublishSource, type PublishSource } from "./publish_source.ts";
import { readPublishedCapset, readPublishedTemplate } from "./published_state.ts";
import { SUPERVISOR_ID } from "../../domain/home/layout.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

/** Options for {@linkcode preparePublish}. */
export interface PreparePublishOptions {
  home: HomeLayout;
  config: HomeConfig;
  /** The verified trust root in force (its dispatcher keys vouch for the vault). */
  root: VerifiedRoot;
  /** The verified agent key directory (age recipients). */
  directory: AgentDirectory;
  /** The home's key store (the supervisor's and readers' age identities). */
  keys: KeyStore;
  /** The exact bytes of the source file. */
  source: Uint8Array<ArrayBuffer>;
  /** The source file's name, for messages and the label of the new text. */
  sourceName: string;
  clock: Clock;
  /**
   * The supervisor's version store, read only: a capset version it has already
   * accepted counts as published even if the vault shows a lower one.
   */
  versionStore?: VersionStore;
}

/** What a publish will do, shown to the operator before they confirm. */
export interface PublishPlan {
  kind: "template" | "capset";
  /** Template id, or the agent of a capability set. */
  id: string;
  version: number;
  /** The highest version published now; 0 when none. */
  publishedVersion: number;
  /** Hex SHA-256 of the exact source bytes: what the operator types to confirm. */
  sha256: string;
  /** What is published now (empty text when nothing is), labelled for a diff. */
  before: PublishText;
  /** What will be published, labelled for a diff. */
  after: PublishText;
  /** The agents (and `supervisor`) that will be able to decrypt the result. */
  readers: string[];
  /** Things the operator should know (never a reason to skip a check). */
  notes: string[];
  /** The decoded source. */
  source: PublishSource;
}

/** One side of what a publish changes, as the text a diff compares. */
export interface PublishText {
  /** Names this side (the header line of a diff). */
  label: string;
  text: string;
}

/** Options for {@linkcode applyPublish}. */
export interface ApplyPublishOptions {
  plan: PublishPlan;
  home: HomeLayout;
  config: HomeConfig;
  root: VerifiedRoot;
  directory: AgentDirectory;
  keys: KeyStore;
  /** Dispatcher keys: a threshold of the root in force (see `dispatcherSigners`). */
  signers: readonly SigningKey[];
  clock: Clock;
  /** The same read-only version store given to {@linkcode preparePublish}. */
  versionStore?: VersionStore;
}

/** What {@linkcode applyPublish} wrote. */
export interface PublishOutcome {
  kind: "template" | "capset";
  id: string;
  version: number;
  previousVersion: number;
  sha256: string;
  /** Files written in the vault. */
  files: string[];
  /** Expiry of the new signed statement. */
  expiresAt: string;
}

/** The source fields of a signed capset, in source order, as the diff shows them. */
function capsetSourceText(capset: Capset | CapsetSource): string {
  const { issued_at: _i, expires_at: _e, ...fields } = capset as Capset;
  return `${JSON.stringify(decodeCapsetSource(fields, "$"), null, 2)}\n`;
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

async function currentCapsets(
  options: Pick<PreparePublishOptions, "home" | "config" | "root" | "keys">,
): Promise<Map<string, Capset>> {
  const supervisor = await options.keys.loadAgent(SUPERVISOR_ID);
  const out = new Map<string, Capset>();
  for (const agent of options.config.agents) {
    const capset = await readPublishedCapset({
      vault: options.home.vault,
      agent,
      identity: supervisor.ageIdentity,
      dispatcher: options.root.trusted,
    });
    if (capset === undefined) {
      throw new SaoeError(
        "vault_resolution",
        `Cannot publish: agent ${agent} (config.json) has no published capability set; the vault is incomplete (re-create the home with "saoe init --force")`,
        { agent },
      );
    }
    out.set(agent, capset);
  }
  return out;
}

function recipientsOf(
  directory: AgentDirectory,
  agents: readonly string[],
  nowMs: number,
  what: string,
): string[] {
  const out: string[] = [];
  for (const agent of agents) {
    const recipients = directory.ageRecipients(agent, nowMs);
    if (recipients.length === 0) {
      throw new SaoeError(
        "vault_access",
        `Cannot publish ${what}: agent ${agent} has no valid age recipient in the key directory`,
        { agent },
      );
    }
    out.push(...recipients);
  }
  return out;
}

function capsetReaders(source: CapsetSource): string[] {
  // peers read this capset to check an edge against both ends (validator step 7)
  return [
    ...new Set([
      source.agent,
      SUPERVISOR_ID,
      ...source.receives.map((r) => r.from),
      ...source.sends.map((s) => s.to),
    ]),
  ];
}

function refuseRollback(what: string, version: number, published: number): never {
  throw new SaoeError(
    "rollback",
    `Cannot publish ${what} version ${version}: version ${published} is already published and versions must increase (set "version": ${
      published + 1
    } or higher)`,
  );
}

async function prepareTemplate(
  options: PreparePublishOptions,
  source: Extract<PublishSource, { kind: "template" }>,
  sha256: string,
): Promise<PublishPlan> {
  const capsets = await currentCapsets(options);
  const readers = [...capsets.values()].filter((c) => c.vault.includes(source.id)).map((c) =>
    c.agent
  );
  const what = `template ${source.id}`;
  if (readers.length === 0) {
    throw new SaoeError(
      "vault_access",
      `Cannot publish ${what}: no current capability set names it in "vault", so no agent could read it (publish a capability set that names it first)`,
      { template_id: source.id },
    );
  }
  const identities: string[] = [];
  for (const agent of readers) identities.push((await options.keys.loadAgent(agent)).ageIdentity);
  const published = await readPublishedTemplate({
    vault: options.home.vault,
    id: source.id,
    identities,
    dispatcher: options.root.trusted,
  });
  const publishedVersion = published?.manifest.version ?? 0;
  if (source.version <= publishedVersion) refuseRollback(what, source.version, publishedVersion);
  const oldLabel = published === undefined
    ? "(nothing published)"
    : `published ${source.id}@${publishedVersion}`;
  return {
    kind: "template",
    id: source.id,
    version: source.version,
    publishedVersion,
    sha256,
    before: { label: oldLabel, text: published === undefined ? "" : text(published.plaintext) },
    after: {
      label: `${options.sourceName} (${source.id}@${source.version})`,
      text: text(source.bytes),
    },
    readers,
    notes: [],
    source,
  };
}

async function prepareCapset(
  options: PreparePublishOptions,
  source: Extract<PublishSource, { kind: "capset" }>,
  sha256: string,
): Promise<PublishPlan> {
  const agent = source.id;
  const what = `the capability set of ${agent}`;
  if (!options.config.agents.includes(agent)) {
    throw new SaoeError(
      "bad_config",
      `Cannot publish ${what}: ${agent} is not an agent of this home (config.json lists ${
        options.config.agents.join(", ")
      })`,
      { agent },
    );
  }
  const capsets = await currentCapsets(options);
  const current = capsets.get(agent)!;
  const accepted = await options.versionStore?.highest(capsetVersionKey(agent)) ?? 0;
  const publishedVersion = Math.max(current.version, accepted);
  if (source.version <= publishedVersion) refuseRollback(what, source.version, publishedVersion);
  const readers = capsetReaders(source.source);
  recipientsOf(options.directory, readers, options.clock.now(), what);
  const notes: string[] = [];
  for (const id of source.source.vault) {
    if (current.vault.includes(id)) continue;
    notes.push(
      `${agent} now names template ${id}, which is encrypted only to its earlier readers: publish a new version of ${id} after this so ${agent} can decrypt it`,
    );
  }
  return {
    kind: "capset",
    id: agent,
    version: source.version,
    publishedVersion,
    sha256,
    before: {
      label: `published capability set ${agent} v${current.version} (source fields)`,
      text: capsetSourceText(current),
    },
    after: {
      label: `${options.sourceName} (source fields)`,
      text: capsetSourceText(source.source),
    },
    readers,
    notes,
    source,
  };
}

/**
 * Reads the home and the source, and returns what publishing would do. Writes
 * nothing. Throws `rollback` when the version does not increase.
 *
 * @example
 * ```ts ignore
 * const plan = await preparePublish({ home, config, root, directory, keys, source, sourceName, clock });
 * console.log(plan.before.label, plan.after.label, plan.sha256);
 * ```
 */
export async function preparePublish(options: PreparePublishOptions): Promise<PublishPlan> {
  const source = parsePublishSource(options.source, options.sourceName);
  const sha256 = await sha256Hex(options.source);
  return source.kind === "template"
    ? await prepareTemplate(options, source, sha256)
    : await prepareCapset(options, source, sha256);
}

/**
 * Signs and writes what `plan` describes. Call it only after the operator
 * confirmed `plan.sha256`. Re-checks the version against the vault (another
 * publish may have happened in between) and verifies a signed capset against
 * the root before writing it.
 *
 * @example
 * ```ts ignore
 * const outcome = await applyPublish({ plan, home, config, root, directory, keys, signers, clock });
 * ```
 */
export async function applyPublish(options: ApplyPublishOptions): Promise<PublishOutcome> {
  const { plan, config, clock } = options;
  const now = clock.now();
  if (options.signers.length < options.root.trusted.threshold) {
    throw new SaoeError(
      "bad_threshold",
      `Cannot publish: ${options.signers.length} dispatcher key(s) given, the trust root needs ${options.root.trusted.threshold}`,
    );
  }
  const recheck = await preparePublish({
    home: options.home,
    config,
    root: options.root,
    directory: options.directory,
    keys: options.keys,
    source: plan.source.bytes,
    sourceName: "the confirmed source",
    clock,
    ...(options.versionStore !== undefined ? { versionStore: options.versionStore } : {}),
  });
  if (recheck.sha256 !== plan.sha256 || recheck.publishedVersion !== plan.publishedVersion) {
    throw new SaoeError(
      "rollback",
      `Cannot publish ${plan.kind} ${plan.id}: the vault changed since the diff was shown (version ${recheck.publishedVersion} is published now); run the publish again`,
    );
  }
  if (plan.source.kind === "template") {
    const validForMs = config.validity.manifest_days * DAY_MS;
    const written = await publishTemplate({
      vault: options.home.vault,
      templateBytes: plan.source.bytes,
      recipients: recipientsOf(options.directory, plan.readers, now, `template ${plan.id}`),
      signers: options.signers,
      issuedAt: now,
      validForMs,
    });
    return {
      kind: "template",
      id: plan.id,
      version: plan.version,
      previousVersion: plan.publishedVersion,
      sha256: plan.sha256,
      files: [written.cipherPath, written.manifestPath],
      expiresAt: written.manifest.expires_at,
    };
  }
  const signed = await signCapset({
    source: plan.source.source,
    signers: options.signers,
    issuedAt: now,
    validForMs: config.validity.capset_days * DAY_MS,
  });
  // a capset every verifier would refuse must not replace a working one
  const capset = await verifyCapset(signed, {
    dispatcher: options.root.trusted,
    clock,
    skewMs: config.skew_ms,
    expectedAgent: plan.id,
  });
  const path = await publishCapset({
    vault: options.home.vault,
    agent: plan.id,
    signedCapsetBytes: signed,
    recipients: recipientsOf(
      options.directory,
      plan.readers,
      now,
      `the capability set of ${plan.id}`,
    ),
  });
  return {
    kind: "capset",
    id: plan.id,
    version: plan.version,
    previousVersion: plan.publishedVersion,
    sha256: plan.sha256,
    files: [path],
    expiresAt: capset.expires_at,
  };
}
