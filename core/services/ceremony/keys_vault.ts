/**
 * The vault as a key ceremony sees it: every capability set, template manifest
 * and the tool manifest, each verified against the root in force before anything
 * of it is re-signed (re-signing an unverified file would launder a planted one
 * into a dispatcher-signed statement), and the writers that re-sign them with
 * fresh validity windows or re-encrypt them for a new recipient set.
 *
 * Recipients follow `saoe init`: a capability set is readable by its agent, the
 * supervisor and the agent's peers (validator step 7 reads both ends of an
 * edge); a template by exactly the agents whose capsets name it. Recipients come
 * from the agent key directory: only keys valid at the ceremony's instant.
 *
 * @module
 */
import {
  type CodeManifest,
  MAX_CODE_MANIFEST_BYTES,
  verifyCodeManifest,
} from "../../domain/code/manifest.ts";
import { codeManifestPath } from "../../domain/vault/layout.ts";
import { applyCodePin } from "./code_pin.ts";
import { verifyTemplateManifest } from "../../domain/vault/template_manifest.ts";
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { type Capset, type CapsetSource, decodeCapsetSource } from "../../domain/capset/types.ts";
import { signCapset } from "../../domain/capset/sign.ts";
import { MAX_CAPSET_BYTES, verifyCapset } from "../../domain/capset/verify.ts";
import { readTrustFile } from "../../domain/trust/files.ts";
import type { AgentDirectory } from "../../domain/trust/agent_directory.ts";
import { decryptWith, encryptTo } from "../../domain/vault/age.ts";
import {
  capsetPath,
  templateCipherPath,
  templateManifestPath,
  toolManifestPath,
} from "../../domain/vault/layout.ts";
import { AGE_OVERHEAD_BYTES, MAX_MANIFEST_BYTES } from "../../domain/vault/limits.ts";
import { publishCapset } from "../../domain/vault/publish.ts";
import {
  decodeTemplateManifest,
  type TemplateManifest,
} from "../../domain/vault/template_types.ts";
import { MAX_TEMPLATE_BYTES } from "../../domain/vault/template_types.ts";
import {
  MAX_TOOL_MANIFEST_BYTES,
  signToolManifest,
  type ToolManifest,
  verifyToolManifest,
} from "../../domain/toolgate/manifest.ts";
import { AGENT_ID_RE, TEMPLATE_ID_RE } from "../../primitives/ids/patterns.ts";
import { type CeremonyHome, verifyTolerant } from "./keys_home.ts";
import { SUPERVISOR_ID } from "../../domain/home/layout.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

const CAPSET_FILE_RE = /^([a-z][a-z0-9_]{0,31})\.age$/;
const MANIFEST_FILE_RE = /^([1-9][0-9]{0,9})\.manifest\.json$/;

/** One verified template manifest in the vault. */
export interface VaultTemplate {
  id: string;
  version: number;
  manifest: TemplateManifest;
}

/** Every verified signed statement of the vault. */
export interface VaultState {
  /** Verified capability sets by agent. */
  capsets: Map<string, Capset>;
  templates: VaultTemplate[];
  toolManifest: ToolManifest;
  /** The code manifest (re-signed with the tool manifest: same pins, next version). */
  codeManifest: CodeManifest;
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/**
 * Reads and verifies every capset, template manifest and the tool manifest with
 * the root in force (capsets decrypted with the supervisor's identity, to which
 * each is encrypted).
 */
export async function readVaultState(
  ch: CeremonyHome,
  options: { allowExpired: boolean },
): Promise<VaultState> {
  const { allowExpired } = options;
  const skewMs = ch.config.skew_ms;
  const dispatcher = ch.root.trusted;
  const supervisor = await ch.keys.loadAgent(SUPERVISOR_ID);
  supervisor.seed.fill(0);
  const capsets = new Map<string, Capset>();
  for (const name of await listNames(join(ch.home.vault, "capsets"))) {
    const match = CAPSET_FILE_RE.exec(name);
    if (match === null) continue;
    const agent = match[1]!;
    const path = capsetPath(ch.home.vault, agent);
    const plain = await decryptWith(
      supervisor.ageIdentity,
      await readTrustFile(path, MAX_CAPSET_BYTES + AGE_OVERHEAD_BYTES),
    );
    const capset = await verifyTolerant(
      { clock: ch.clock, allowExpired, bytes: plain, maxBytes: MAX_CAPSET_BYTES },
      (clock) => verifyCapset(plain, { dispatcher, clock, skewMs, expectedAgent: agent }),
    ).catch((err: unknown) => {
      throw err instanceof SaoeError ? err.withIds({ file: path }) : err;
    });
    capsets.set(agent, capset);
  }
  const templates: VaultTemplate[] = [];
  for (const id of await listNames(join(ch.home.vault, "templates"))) {
    if (!TEMPLATE_ID_RE.test(id)) continue;
    for (const name of await listNames(join(ch.home.vault, "templates", id))) {
      const match = MANIFEST_FILE_RE.exec(name);
      if (match === null) continue;
      const version = Number(match[1]);
      const path = templateManifestPath(ch.home.vault, id, version);
      const bytes = await readTrustFile(path, MAX_MANIFEST_BYTES);
      const payload = await verifyTolerant(
        { clock: ch.clock, allowExpired, bytes, maxBytes: MAX_MANIFEST_BYTES },
        (clock) => verifyTemplateManifest(bytes, { dispatcher, clock, skewMs, id, version }),
      );
      templates.push({ id, version, manifest: payload });
    }
  }
  const toolPath = toolManifestPath(ch.home.vault);
  const toolBytes = await readTrustFile(toolPath, MAX_TOOL_MANIFEST_BYTES);
  const toolManifest = await verifyTolerant(
    { clock: ch.clock, allowExpired, bytes: toolBytes, maxBytes: MAX_TOOL_MANIFEST_BYTES },
    (clock) => verifyToolManifest(toolBytes, { dispatcher, clock, skewMs }),
  );
  const codePath = codeManifestPath(ch.home.vault);
  const codeBytes = await readTrustFile(codePath, MAX_CODE_MANIFEST_BYTES);
  const codeManifest = await verifyTolerant(
    { clock: ch.clock, allowExpired, bytes: codeBytes, maxBytes: MAX_CODE_MANIFEST_BYTES },
    (clock) => verifyCodeManifest(codeBytes, { dispatcher, clock, skewMs }),
  );
  return { capsets, templates, toolManifest, codeManifest };
}

/** Agents that may read `agent`'s capset: itself, the supervisor and its peers. */
export function capsetReaders(agent: string, capset: Capset): string[] {
  return [
    ...new Set([
      agent,
      SUPERVISOR_ID,
      ...capset.receives.map((r) => r.from),
      ...capset.sends.map((s) => s.to),
    ]),
  ];
}

/** Agents whose capsets name template `id`. */
export function templateReaders(id: string, capsets: ReadonlyMap<string, Capset>): string[] {
  return [...capsets].filter(([, c]) => c.vault.includes(id)).map(([agent]) => agent).sort();
}

/** age recipients of `agents`' keys valid at `nowMs`. */
export function recipientsOf(
  agents: readonly string[],
  directory: AgentDirectory,
  nowMs: number,
): string[] {
  return [...new Set(agents.flatMap((a) => directory.ageRecipients(a, nowMs)))];
}

function sourceOf(capset: Capset, bumpVersion: boolean): CapsetSource {
  const { issued_at: _issued, expires_at: _expires, ...rest } = capset;
  return decodeCapsetSource({ ...rest, version: capset.version + (bumpVersion ? 1 : 0) }, "$");
}

/** Options for {@linkcode writeCapsets}. */
export interface WriteCapsetsOptions {
  /** Dispatcher keys that sign (a threshold of the root that will be in force). */
  signers: readonly SigningKey[];
  /** Recipients are taken from this directory (the one that will be in force). */
  directory: AgentDirectory;
  /** Raise each capset's version by one (a renewal); a rotation keeps it. */
  bumpVersion: boolean;
}

/**
 * Re-signs every capset with a fresh window (`config.validity.capset_days`) and
 * re-publishes it encrypted to its readers. Returns the agents written.
 */
export async function writeCapsets(
  ch: CeremonyHome,
  state: VaultState,
  options: WriteCapsetsOptions,
): Promise<string[]> {
  const now = ch.clock.now();
  const written: string[] = [];
  for (const [agent, capset] of state.capsets) {
    if (!AGENT_ID_RE.test(agent)) continue;
    const signed = await signCapset({
      source: sourceOf(capset, options.bumpVersion),
      signers: options.signers,
      issuedAt: now,
      validForMs: ch.config.validity.capset_days * DAY_MS,
    });
    const recipients = recipientsOf(capsetReaders(agent, capset), options.directory, now);
    await publishCapset({ vault: ch.home.vault, agent, signedCapsetBytes: signed, recipients });
    written.push(agent);
  }
  return written;
}

/**
 * Re-signs every template manifest (same id, version and sha256: the ciphertext is
 * untouched) with a fresh window (`config.validity.manifest_days`).
 */
export async function writeTemplateManifests(
  ch: CeremonyHome,
  state: VaultState,
  signers: readonly SigningKey[],
): Promise<string[]> {
  const now = ch.clock.now();
  const written: string[] = [];
  for (const t of state.templates) {
    const manifest: TemplateManifest = {
      id: t.id,
      version: t.version,
      sha256: t.manifest.sha256,
      issued_at: formatTimestamp(now),
      expires_at: formatTimestamp(now + ch.config.validity.manifest_days * DAY_MS),
    };
    const bytes = await signStatement({
      payloadType: PAYLOAD_TYPES.templateManifest,
      payload: { ...decodeTemplateManifest(manifest, "$") },
      signers,
    });
    await writeFileAtomic(templateManifestPath(ch.home.vault, t.id, t.version), bytes);
    written.push(`${t.id}@${t.version}`);
  }
  return written;
}

/** Re-signs the tool manifest (same tools) as version + 1 with a fresh window. */
export async function writeToolManifest(
  ch: CeremonyHome,
  state: VaultState,
  signers: readonly SigningKey[],
): Promise<number> {
  const version = state.toolManifest.version + 1;
  const bytes = await signToolManifest({
    version,
    tools: state.toolManifest.tools,
    signers,
    issuedAt: ch.clock.now(),
    validForMs: ch.config.validity.manifest_days * DAY_MS,
  });
  await writeFileAtomic(toolManifestPath(ch.home.vault), bytes);
  return version;
}

/**
 * Re-signs the code manifest as its next version with a fresh validity window:
 * the same pins, signed by `signers` (a renewal or a dispatcher rotation).
 */
export async function writeCodeManifest(
  ch: CeremonyHome,
  state: VaultState,
  signers: readonly SigningKey[],
): Promise<number> {
  const version = state.codeManifest.version + 1;
  await applyCodePin({
    home: ch.home,
    version,
    contents: { files: state.codeManifest.files, agents: state.codeManifest.agents },
    signers,
    clock: ch.clock,
    validityDays: ch.config.validity.manifest_days,
  });
  return version;
}

/**
 * Decrypts every template version with the identity of one of its readers (from
 * the key store), keyed `id@version`. Read before any key changes, so a rotated
 * agent's old identity can still serve.
 */
export async function decryptTemplates(
  ch: CeremonyHome,
  state: VaultState,
): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const identities = new Map<string, string>();
  const out = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const t of state.templates) {
    const path = templateCipherPath(ch.home.vault, t.id, t.version);
    const cipher = await readTrustFile(path, MAX_TEMPLATE_BYTES + AGE_OVERHEAD_BYTES);
    let plain: Uint8Array<ArrayBuffer> | undefined;
    for (const reader of templateReaders(t.id, state.capsets)) {
      if (!identities.has(reader)) {
        const secrets = await ch.keys.loadAgent(reader).catch(() => undefined);
        if (secrets === undefined) continue;
        secrets.seed.fill(0);
        identities.set(reader, secrets.ageIdentity);
      }
      plain = await decryptWith(identities.get(reader)!, cipher).catch(() => undefined);
      if (plain !== undefined) break;
    }
    if (plain === undefined) {
      throw new SaoeError(
        "vault_access",
        `Cannot re-encrypt template ${t.id}@${t.version}: no reader's identity in the key store decrypts ${path}`,
        { template_id: t.id, file: path },
      );
    }
    out.set(`${t.id}@${t.version}`, plain);
  }
  return out;
}

/**
 * Re-encrypts every template to its readers' recipients in `directory` (the
 * manifest is untouched: it signs the plaintext's hash). A template no reader may
 * decrypt any more (its only reader was revoked) keeps its old ciphertext.
 */
export async function writeTemplateCiphertexts(
  ch: CeremonyHome,
  state: VaultState,
  options: { plaintexts: ReadonlyMap<string, Uint8Array>; directory: AgentDirectory },
): Promise<string[]> {
  const now = ch.clock.now();
  const written: string[] = [];
  for (const t of state.templates) {
    const plain = options.plaintexts.get(`${t.id}@${t.version}`);
    const recipients = recipientsOf(templateReaders(t.id, state.capsets), options.directory, now);
    if (plain === undefined || recipients.length === 0) continue;
    const cipher = await encryptTo(recipients, plain);
    await writeFileAtomic(templateCipherPath(ch.home.vault, t.id, t.version), cipher);
    written.push(`${t.id}@${t.version}`);
  }
  return written;
}
