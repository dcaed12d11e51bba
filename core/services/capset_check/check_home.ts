/**
 * `saoe capset check --home H`: the check of what a real home would run. It
 * verifies what the supervisor verifies before it spawns anything (the trust
 * root chain from `config.root_pin`, the agent key directory, every capability
 * set decrypted with the supervisor's age identity and dispatcher-signed for its
 * agent and unexpired, the tool manifest and each tool module's digest against
 * the repository), then runs the structural checks of {@linkcode checkCapsets}
 * on the verified capsets with the published templates and their policies.
 *
 * Unlike the supervisor it does not stop at the first refusal: an expired or
 * forged capset, a bad signature or a missing file each become a finding naming
 * the file, and the rest is still checked. Only a trust root that does not
 * verify ends the check early (nothing else can be verified without it).
 *
 * @module
 */
import { join } from "node:path";
import { constantTimeEqual, fromHex, sha256 } from "../../primitives/crypto/bytes.ts";
import { SaoeError } from "../../primitives/errors.ts";
import { readHomeConfig } from "../../domain/home/config.ts";
import { homeLayout } from "../../domain/home/layout.ts";
import { AGENT_ID_RE } from "../../primitives/ids/patterns.ts";
import { openKeyStore } from "../../domain/keys/keystore.ts";
import { SUPERVISOR_ID } from "../../domain/home/layout.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { verifyRootChain } from "../../domain/trust/chain.ts";
import { verifyDirectory } from "../../domain/trust/directory.ts";
import {
  directoryFile,
  loadRootChain,
  readTrustFile,
  rootFolder,
} from "../../domain/trust/files.ts";
import type { VersionStore } from "../../domain/trust/version_store.ts";
import { MemoryVersionStore } from "../../domain/trust/version_store_memory.ts";
import { decryptWith } from "../../domain/vault/age.ts";
import { capsetPath, templateDir, toolManifestPath } from "../../domain/vault/layout.ts";
import { BUILTIN_TOOLS } from "../../domain/toolgate/builtin_tools.ts";
import { MAX_TOOL_MANIFEST_BYTES, verifyToolManifest } from "../../domain/toolgate/manifest.ts";
import { readToolModule } from "../../domain/toolgate/module_file.ts";
import { MAX_CAPSET_BYTES, verifyCapset } from "../../domain/capset/verify.ts";
import type { Capset } from "../../domain/capset/types.ts";
import { checkCapsets } from "../../domain/capset/check.ts";
import {
  type CheckReport,
  checkReport,
  type FileFinding,
  findingFromError,
  NO_AGENT,
  placeFindings,
} from "./check_report.ts";
import { loadHomeTemplates } from "./check_home_templates.ts";

/** Options for {@linkcode checkHome}. */
export interface CheckHomeOptions {
  /** The home folder. */
  home: string;
  /** The repository root the agents and tool modules are run from. */
  repo: string;
  clock: Clock;
  /**
   * Rollback protection: the versions the supervisor has seen. Default: an empty
   * in-memory store (no rollback knowledge). It is raised as statements verify,
   * so pass a read-only view of the supervisor's store.
   */
  versionStore?: VersionStore;
}

async function capsetAgents(vault: string, configured: readonly string[]): Promise<string[]> {
  const agents = new Set(configured);
  try {
    for await (const entry of Deno.readDir(join(vault, "capsets"))) {
      const m = /^(.+)\.age$/.exec(entry.name);
      if (m !== null && AGENT_ID_RE.test(m[1]!)) agents.add(m[1]!);
    }
  } catch {
    // a missing folder shows as a missing file for every configured agent
  }
  return [...agents].sort();
}

/**
 * Checks the home at `options.home`.
 *
 * @example
 * ```ts ignore
 * const report = await checkHome({ home: ".saoe", repo: "/opt/saoe", clock: systemClock });
 * for (const f of report.findings) console.log(`${f.file}: ${f.agent}: ${f.reason}: ${f.detail}`);
 * ```
 */
export async function checkHome(options: CheckHomeOptions): Promise<CheckReport> {
  const { clock } = options;
  const versionStore = options.versionStore ?? new MemoryVersionStore();
  const findings: FileFinding[] = [];
  const done = (capsets: number, templates: number) =>
    checkReport(findings, { capsets, templates });

  let root: string;
  try {
    // Deno checks permissions on paths as written: derive flags for the real path
    root = await Deno.realPath(options.home);
  } catch (err: unknown) {
    findings.push(findingFromError(err, options.home, NO_AGENT));
    return done(0, 0);
  }
  const home = homeLayout(root);
  let config;
  try {
    config = await readHomeConfig(home.config);
  } catch (err: unknown) {
    findings.push(findingFromError(err, home.config, NO_AGENT));
    return done(0, 0);
  }
  const skewMs = config.skew_ms;

  let trustedRoot;
  try {
    trustedRoot = await verifyRootChain({
      roots: await loadRootChain(home.trust),
      pin: config.root_pin,
      clock,
      skewMs,
      versionStore,
    });
  } catch (err: unknown) {
    findings.push(findingFromError(err, rootFolder(home.trust), NO_AGENT));
    return done(0, 0);
  }
  const dispatcher = trustedRoot.trusted;
  try {
    await verifyDirectory(await readTrustFile(directoryFile(home.trust), 1024 * 1024), {
      root: trustedRoot,
      clock,
      skewMs,
      versionStore,
    });
  } catch (err: unknown) {
    findings.push(findingFromError(err, directoryFile(home.trust), NO_AGENT));
  }

  // the key store is opened once; secrets are loaded only as needed and zeroed
  const identities = new Map<string, string | undefined>();
  let keyStore: Awaited<ReturnType<typeof openKeyStore>> | undefined;
  try {
    keyStore = await openKeyStore(home.keys);
  } catch (err: unknown) {
    findings.push(findingFromError(err, home.keys, NO_AGENT));
  }
  const identityOf = async (agent: string): Promise<string | undefined> => {
    if (identities.has(agent)) return identities.get(agent);
    let identity: string | undefined;
    if (keyStore !== undefined) {
      try {
        const secrets = await keyStore.loadAgent(agent);
        secrets.seed.fill(0);
        identity = secrets.ageIdentity;
      } catch (err: unknown) {
        findings.push(findingFromError(err, home.keys, agent));
      }
    }
    identities.set(agent, identity);
    return identity;
  };

  const capsets: Capset[] = [];
  const unverifiable = new Set<string>();
  const supervisorIdentity = keyStore === undefined ? undefined : await identityOf(SUPERVISOR_ID);
  for (const agent of await capsetAgents(home.vault, config.agents)) {
    const path = capsetPath(home.vault, agent);
    try {
      await Deno.lstat(path);
    } catch (err: unknown) {
      findings.push(findingFromError(err, path, agent));
      unverifiable.add(agent);
      continue;
    }
    if (supervisorIdentity === undefined) {
      unverifiable.add(agent);
      continue;
    }
    try {
      const plain = await decryptWith(
        supervisorIdentity,
        await readTrustFile(path, 2 * MAX_CAPSET_BYTES),
      );
      capsets.push(
        await verifyCapset(plain, {
          dispatcher,
          clock,
          skewMs,
          versionStore,
          expectedAgent: agent,
        }),
      );
    } catch (err: unknown) {
      findings.push(findingFromError(err, path, agent));
      unverifiable.add(agent);
    }
  }

  const manifestPath = toolManifestPath(home.vault);
  let tools: readonly { name: string; module: string }[] = BUILTIN_TOOLS;
  try {
    const manifest = await verifyToolManifest(
      await readTrustFile(manifestPath, MAX_TOOL_MANIFEST_BYTES),
      { dispatcher, clock, skewMs },
    );
    tools = manifest.tools;
    for (const tool of manifest.tools) {
      // ToolGate refuses a module whose bytes differ: catch it before the pipeline does
      const bytes = await readToolModule(options.repo, tool.module);
      if (!constantTimeEqual(await sha256(bytes), fromHex(tool.sha256, "tool digest"))) {
        throw new SaoeError(
          "tool_hash_mismatch",
          `Tool ${tool.name}: ${tool.module} in ${options.repo} does not hash to the sha256 the signed tool manifest names`,
        );
      }
    }
  } catch (err: unknown) {
    findings.push(findingFromError(err, manifestPath, NO_AGENT));
  }

  const templates = await loadHomeTemplates({
    vault: home.vault,
    dispatcher,
    clock,
    skewMs,
    identityFor: async (id) => {
      const holder = capsets.find((c) => c.vault.includes(id));
      return holder === undefined ? undefined : await identityOf(holder.agent);
    },
  });
  findings.push(...templates.findings);

  const toolModules: Record<string, string> = {};
  for (const tool of tools) toolModules[tool.name] = join(options.repo, tool.module);
  const structural = checkCapsets({
    capsets,
    templates: templates.ids,
    tools: new Set(tools.map((t) => t.name)),
    home,
    toolModules,
    policies: templates.policies,
    unverifiable,
  });
  findings.push(...placeFindings(structural, {
    capsetFile: (agent) => capsetPath(home.vault, agent),
    templateFile: (id) => templateDir(home.vault, id),
  }));
  return done(capsets.length, templates.ids.size);
}
