/**
 * `saoe init`: creates a SAOE home from the repository's reviewed `vault/` sources.
 *
 * Order: folders, key store (master identity), dispatcher keys and trust root v1,
 * agent keys and the signed agent key directory, capability sets signed and
 * encrypted to the agent and its peers, templates encrypted to exactly the agents
 * whose capsets name them with signed manifests, and `config.json` with the root
 * pin last: a crash part-way leaves no config, and the home counts as incomplete.
 *
 * With `offlineDispatcher`, the dispatcher seeds sign everything above as usual,
 * are then written to a passphrase-encrypted export file outside the home, and
 * are never stored in `keys/dispatcher/`: the pipeline host keeps public material
 * only (see `docs/operations.md`).
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { DEFAULT_SKEW_MS } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { type CapsetSource, decodeCapsetSource } from "../../domain/capset/types.ts";
import { signCapset } from "../../domain/capset/sign.ts";
import { createKeyStore } from "../../domain/keys/keystore.ts";
import { createOperatorToken } from "../../domain/keys/operator_token.ts";
import { signRoot } from "../../domain/trust/root.ts";
import { rootKeyOf } from "../../domain/trust/root.ts";
import { writeRootFile } from "../../domain/trust/files.ts";
import {
  buildDirectory,
  type DirectoryKeyInput,
  signDirectory,
} from "../../domain/trust/directory.ts";
import { writeDirectoryFile } from "../../domain/trust/files.ts";
import { recipientOf } from "../../domain/vault/age.ts";
import { publishCapset, publishTemplate } from "../../domain/vault/publish.ts";
import { parseTemplate } from "../../domain/vault/template_types.ts";
import { toolManifestPath } from "../../domain/vault/layout.ts";
import { BUILTIN_TOOLS } from "../../domain/toolgate/builtin_tools.ts";
import { describeTool, signToolManifest } from "../../domain/toolgate/manifest.ts";
import { agentCodeOf, applyCodePin, describeAgentCode } from "./code_pin.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { HOME_FOLDERS, type HomeLayout, homeLayout } from "../../domain/home/layout.ts";
import {
  checkExportPassphrase,
  checkExportPath,
  writeDispatcherExport,
} from "./dispatcher_export.ts";
import { type HomeConfig, writeHomeConfig } from "../../domain/home/config.ts";
import type { PublicKeyEntry } from "../../primitives/dsse/types.ts";
import { attachLocalWitness } from "../witness/attach.ts";

import { SUPERVISOR_ID } from "../../domain/home/layout.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

/** Options for {@linkcode initHome}. */
export interface InitHomeOptions {
  /** The home folder to create. */
  home: string;
  /** The repository's `vault/` sources folder. */
  sources: string;
  /** The repository root (tool modules are hashed into the signed tool manifest). */
  repo: string;
  clock: Clock;
  /** Replace an existing home (everything in it is reset). */
  force?: boolean;
  /** Dispatcher signatures required (k). Default 1. */
  threshold?: number;
  /** Dispatcher keys generated (n). Default `threshold`. */
  keys?: number;
  /** Progress lines for the operator. */
  progress?: (line: string) => void;
  /**
   * Keep the dispatcher keys off this host: export them to `exportPath` (outside
   * the home, must not exist) encrypted with `passphrase`, and do not store them
   * in the key store.
   */
  offlineDispatcher?: OfflineDispatcherOptions;
  /**
   * The state directory of the home's local witness (created, or reused when it
   * is already a witness): default `<home>.witness`, beside the home. The home's
   * ledger is cosigned by it; without a witness the pipeline does not start.
   */
  witnessState?: string;
}

/** Where and how {@linkcode initHome} exports the dispatcher keys in offline mode. */
export interface OfflineDispatcherOptions {
  /** The export file; refused when inside the home or already present. */
  exportPath: string;
  /** At least 12 characters. Never logged. */
  passphrase: string;
  /** scrypt work factor (log2 N); default the library's (18). Lower only in tests. */
  workFactor?: number;
}

/** What {@linkcode initHome} created. */
export interface InitHomeResult {
  home: HomeLayout;
  config: HomeConfig;
  /** The state directory of the home's local witness (outside the home). */
  witnessState: string;
  agents: string[];
  templates: string[];
}

/**
 * The first agent uid/gid `init` assigns (one per agent, in start order): above
 * the range of ordinary accounts (1000–59999) and below the ranges systemd
 * hands out dynamically (61184 and up), so no login account shares them.
 */
export const FIRST_AGENT_ID = 61_001;

function sandboxIds(agents: readonly string[]): NonNullable<HomeConfig["sandbox_ids"]> {
  const id = (i: number) => FIRST_AGENT_ID + i;
  const n = agents.length;
  return {
    agents: Object.fromEntries(agents.map((agent, i) => [agent, { uid: id(i), gid: id(i) }])),
    shared: { uploads: id(n), media: id(n + 1), output: id(n + 2), audit: id(n + 3) },
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

async function readSources(
  dir: string,
  what: string,
): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const out = new Map<string, Uint8Array<ArrayBuffer>>();
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    throw new SaoeError("bad_config", `Cannot read ${what} sources in ${dir}: no such folder`);
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.name.endsWith(".json")) continue;
    if (!entry.isFile) {
      throw new SaoeError(
        "unsafe_path",
        `Cannot read ${what} source ${entry.name}: not a regular file`,
      );
    }
    out.set(entry.name.slice(0, -5), await Deno.readFile(join(dir, entry.name)));
  }
  return out;
}

async function resetHome(home: HomeLayout): Promise<void> {
  // only what SAOE owns: a mistyped --home must not wipe unrelated files
  for (const folder of HOME_FOLDERS) {
    await Deno.remove(home[folder], { recursive: true }).catch((e: unknown) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  await Deno.remove(home.config).catch((e: unknown) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/**
 * Creates a complete home. Refuses an existing home unless `force`.
 *
 * @example
 * ```ts ignore
 * import { initHome } from "./init_home.ts";
 * await initHome({ home: ".saoe", sources: "vault", clock: { now: () => Date.now() } });
 * ```
 */
export async function initHome(options: InitHomeOptions): Promise<InitHomeResult> {
  const progress = options.progress ?? (() => {});
  const threshold = options.threshold ?? 1;
  const keyCount = options.keys ?? threshold;
  if (!Number.isSafeInteger(threshold) || threshold < 1 || keyCount < threshold || keyCount > 32) {
    throw new SaoeError(
      "bad_threshold",
      `Cannot create a trust root with threshold ${threshold} of ${keyCount} keys: expected 1 <= k <= n <= 32`,
    );
  }
  const home = homeLayout(options.home);
  const offline = options.offlineDispatcher;
  if (offline !== undefined) {
    // checked before anything is deleted or created
    checkExportPassphrase(offline.passphrase);
    await checkExportPath(offline.exportPath, home.root);
  }
  const populated = await exists(home.config) || await exists(home.keys) ||
    await exists(home.trust);
  if (populated && !options.force) {
    throw new SaoeError(
      "bad_config",
      `Cannot initialise ${home.root}: a SAOE home is already there (use --force to reset it, which deletes its keys, ledger and queues)`,
    );
  }
  // sources are read and checked before anything is deleted
  const capsetSources = new Map<string, CapsetSource>();
  for (const [name, bytes] of await readSources(join(options.sources, "capsets"), "capset")) {
    const source = decodeCapsetSource(parseStrictJson(bytes, { maxBytes: 1024 * 1024 }), "$");
    if (source.agent !== name) {
      throw new SaoeError(
        "bad_config",
        `Invalid capset source ${name}.json: it names agent "${source.agent}"`,
      );
    }
    capsetSources.set(name, source);
  }
  const templateSources = await readSources(join(options.sources, "templates"), "template");
  for (const [name, bytes] of templateSources) {
    const template = parseTemplate(bytes);
    if (template.id !== name) {
      throw new SaoeError(
        "bad_config",
        `Invalid template source ${name}.json: it names template "${template.id}"`,
      );
    }
  }
  if (capsetSources.size === 0) {
    throw new SaoeError("bad_config", `No capset sources in ${options.sources}`);
  }

  if (populated) {
    progress(`Resetting the existing home ${home.root}`);
    await resetHome(home);
  }
  await Deno.mkdir(home.root, { recursive: true, mode: 0o700 });
  for (const folder of HOME_FOLDERS) {
    await Deno.mkdir(home[folder], { recursive: true, mode: 0o700 });
  }

  const now = options.clock.now();
  const validity = {
    root_days: 365,
    directory_days: 90,
    capset_days: 90,
    manifest_days: 90,
    agent_key_days: 365,
  };
  const keys = await createKeyStore(home.keys);

  progress(`Creating ${keyCount} dispatcher key(s), threshold ${threshold}`);
  const dispatchers: SigningKey[] = [];
  const offlineSeeds: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 1; i <= keyCount; i++) {
    const seed = generateSeed();
    if (offline === undefined) await keys.saveDispatcher(i, seed);
    else offlineSeeds.push(seed);
    dispatchers.push(await SigningKey.fromSeed(seed));
  }
  const rootBytes = await signRoot({
    payload: {
      version: 1,
      issued_at: formatTimestamp(now),
      expires_at: formatTimestamp(now + validity.root_days * DAY_MS),
      threshold,
      keys: dispatchers.map(rootKeyOf),
    },
    signers: dispatchers,
  });
  await writeRootFile(home.trust, 1, rootBytes);

  const agents = [...capsetSources.keys()];
  progress(`Creating keys for ${agents.length} agents and the supervisor`);
  const directoryKeys: Record<string, DirectoryKeyInput[]> = {};
  const recipients = new Map<string, string>();
  let supervisorKey: PublicKeyEntry | undefined;
  for (const agent of [...agents, SUPERVISOR_ID]) {
    const secrets = await keys.createAgent(agent);
    const signing = await SigningKey.fromSeed(secrets.seed);
    if (agent === SUPERVISOR_ID) {
      supervisorKey = { keyid: signing.keyid, publicKey: signing.publicKey };
    }
    const recipient = await recipientOf(secrets.ageIdentity);
    recipients.set(agent, recipient);
    directoryKeys[agent] = [{
      publicKey: signing.publicKey,
      ageRecipient: recipient,
      validFromMs: now,
      validUntilMs: now + validity.agent_key_days * DAY_MS,
    }];
  }
  const directory = await buildDirectory({
    version: 1,
    issuedAtMs: now,
    expiresAtMs: now + validity.directory_days * DAY_MS,
    agents: directoryKeys,
  });
  await writeDirectoryFile(
    home.trust,
    await signDirectory({ payload: directory, signers: dispatchers }),
  );

  progress(`Publishing ${capsetSources.size} capability sets`);
  for (const [agent, source] of capsetSources) {
    const signed = await signCapset({
      source,
      signers: dispatchers,
      issuedAt: now,
      validForMs: validity.capset_days * DAY_MS,
    });
    // peers read this capset to check an edge against both ends (validator step 7)
    const peers = new Set([
      agent,
      SUPERVISOR_ID,
      ...source.receives.map((r) => r.from),
      ...source.sends.map((s) => s.to),
    ]);
    const to = [...peers].map((p) => recipients.get(p)).filter((r): r is string => r !== undefined);
    await publishCapset({ vault: home.vault, agent, signedCapsetBytes: signed, recipients: to });
  }

  progress(`Publishing ${templateSources.size} templates`);
  for (const [id, bytes] of templateSources) {
    const readers = agents.filter((a) => capsetSources.get(a)!.vault.includes(id));
    if (readers.length === 0) {
      progress(`  template ${id}: no capset names it, not published`);
      continue;
    }
    await publishTemplate({
      vault: home.vault,
      templateBytes: bytes,
      recipients: readers.map((a) => recipients.get(a)!),
      signers: dispatchers,
      issuedAt: now,
      validForMs: validity.manifest_days * DAY_MS,
    });
  }

  progress(`Signing the tool manifest (${BUILTIN_TOOLS.length} tools)`);
  const tools = [];
  for (const tool of BUILTIN_TOOLS) tools.push(await describeTool(options.repo, tool));
  const toolManifest = await signToolManifest({
    version: 1,
    tools,
    signers: dispatchers,
    issuedAt: now,
    validForMs: validity.manifest_days * DAY_MS,
  });
  await writeFileAtomic(toolManifestPath(home.vault), toolManifest);

  progress(`Pinning the code of ${agents.length} agents`);
  const code = await describeAgentCode(
    options.repo,
    agentCodeOf(agents.map((a) => capsetSources.get(a)!), { tools: BUILTIN_TOOLS }),
  );
  await applyCodePin({
    home,
    version: 1,
    contents: code,
    signers: dispatchers,
    clock: { now: () => now },
    validityDays: validity.manifest_days,
  });

  if (offline !== undefined) {
    // before config.json: a failed export leaves an incomplete home, not one nobody can sign for
    progress(`Exporting the dispatcher key(s) to ${offline.exportPath} (passphrase-encrypted)`);
    try {
      await writeDispatcherExport({
        path: offline.exportPath,
        seeds: offlineSeeds,
        passphrase: offline.passphrase,
        clock: options.clock,
        ...(offline.workFactor !== undefined ? { workFactor: offline.workFactor } : {}),
      });
    } finally {
      for (const seed of offlineSeeds) seed.fill(0);
    }
  }

  progress("Creating the operator credential");
  const operator = await createOperatorToken(home.keys, "operator", "person");
  const config: HomeConfig = {
    format: 1,
    created_at: formatTimestamp(now),
    root_pin: await sha256Hex(rootBytes),
    skew_ms: DEFAULT_SKEW_MS,
    agents,
    operator_tokens: [operator],
    intake: { person_per_minute: 10, automation_per_minute: 100, max_queue_depth: 1000 },
    sandbox_ids: sandboxIds(agents),
    reconcile_ms: 30_000,
    validity,
  };
  await writeHomeConfig(home.config, config);
  const attached = await attachLocalWitness({
    home,
    config,
    supervisorKey: supervisorKey!,
    ...(options.witnessState !== undefined ? { state: options.witnessState } : {}),
  });
  progress(
    `Witness ${attached.name} ${
      attached.created ? "created" : "reused"
    } with its state in ${attached.state} (outside the home; run it as another user or host in production)`,
  );
  progress(`Home ready at ${home.root} (root pin ${config.root_pin})`);
  return {
    home,
    config: attached.config,
    witnessState: attached.state,
    agents,
    templates: [...templateSources.keys()],
  };
}
