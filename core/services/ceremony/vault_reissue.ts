/**
 * The one transaction of the key ceremonies that re-issue the vault: `saoe keys
 * rotate AGENT`, `saoe keys rotate dispatcher` (its commit), `saoe keys revoke`
 * and `saoe keys renew`. Each used to repeat the same sequence; here it is once,
 * with its order:
 *
 * 1. {@linkcode beginVaultReissue} reads and verifies every vault statement under
 *    the root in force (re-signing an unverified file would launder a planted
 *    one), and decrypts the templates when they are to be re-encrypted, before
 *    any key changes (a rotated agent's old identity must still decrypt them).
 *    Nothing is written.
 * 2. The ceremony's own first writes, between begin and commit: new agent
 *    secrets into the key store, root N+1, the dispatcher key store swap.
 * 3. {@linkcode VaultReissue.commit} writes the vault: capability sets
 *    (re-signed with fresh windows and encrypted to their readers in the new
 *    directory), template ciphertexts (re-encrypted), template manifests and
 *    the tool manifest (re-signed); then, last, the agent key directory N+1;
 *    then the ceremony's clean-up (a revoked agent's secrets); then the
 *    `key_rotated` event (`keys_audit.ts`).
 *
 * Why the directory is last: a running supervisor (it watches `trust/` and
 * `vault/`) applies a ceremony when the directory changes, so it only ever
 * applies a complete state; a ceremony cut short before the directory leaves it
 * running on what it verified before (after a dispatcher rotation, root N+1 does
 * not verify the old directory). A dispatcher rotation cut short is finished
 * with `saoe keys renew all`, which re-signs everything with the keys in force.
 *
 * @module
 */
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import { AgentDirectory } from "../../domain/trust/agent_directory.ts";
import type { DirectoryPayload } from "../../domain/trust/directory_payload.ts";
import type { CeremonyHome } from "./keys_home.ts";
import { writeDirectory } from "./keys_directory.ts";
import {
  decryptTemplates,
  readVaultState,
  type VaultState,
  writeCapsets,
  writeCodeManifest,
  writeTemplateCiphertexts,
  writeTemplateManifests,
  writeToolManifest,
} from "./keys_vault.ts";
import { type KeyEventRecorder, recordKeyEvent } from "./keys_audit.ts";

/** What {@linkcode beginVaultReissue} reads before anything is written. */
export type ReissueRead =
  /** Nothing of the vault (a renewal of the root or the directory only). */
  | "none"
  /** Every signed statement, verified. */
  | "statements"
  /** The statements, and every template's plaintext (to re-encrypt them). */
  | "templates";

/** What a commit wrote so far (set for each part it was asked to write). */
export interface ReissueWritten {
  /** Agents whose capability sets were re-signed and re-encrypted. */
  capsets?: string[];
  /** Templates re-encrypted, as `id@version`. */
  templates?: string[];
  /** Template manifests re-signed, as `id@version`. */
  manifests?: string[];
  /** The version the tool manifest was re-signed as. */
  toolManifestVersion?: number;
  /** The version the code manifest was re-signed as (with the tool manifest). */
  codeManifestVersion?: number;
  /** The version of the directory written. */
  directoryVersion?: number;
}

/** One part of the vault (or the directory) a commit has just written. */
export type ReissueStep = "capsets" | "templates" | "manifests" | "toolManifest" | "directory";

/** Options for {@linkcode VaultReissue.commit}. */
export interface ReissueCommit {
  /** Dispatcher keys that sign (a threshold of the root that will be in force). */
  signers: readonly SigningKey[];
  /**
   * Directory N+1, written last; recipients are taken from it. Omitted, the
   * directory in force stays and decides the recipients.
   */
  directory?: DirectoryPayload;
  /** Re-sign every capset with a fresh window (version + 1 when `bumpVersion`) and re-encrypt it. */
  capsets?: { bumpVersion: boolean };
  /** Re-encrypt every template to its readers (needs `read: "templates"`). */
  templates?: boolean;
  /** Re-sign every template manifest (same id, version and sha256). */
  manifests?: boolean;
  /** Re-sign the tool manifest and the code manifest, each as version + 1. */
  toolManifest?: boolean;
  /** Runs once the directory is written, before the event is recorded. */
  afterDirectory?: () => Promise<void>;
  /** Called after each part is written, with everything written so far. */
  onStep?: (step: ReissueStep, written: Readonly<ReissueWritten>) => void;
  /** The `detail` of the `key_rotated` event. */
  event: JsonObject;
}

/** What a commit wrote, and who records its `key_rotated` event. */
export interface ReissueResult extends ReissueWritten {
  recordedBy: KeyEventRecorder;
}

/** A vault re-issue between its read and its commit (see the module doc). */
export class VaultReissue implements Disposable {
  readonly #ch: CeremonyHome;
  readonly #state: VaultState | undefined;
  readonly #plaintexts: Map<string, Uint8Array<ArrayBuffer>> | undefined;
  #committed = false;

  private constructor(
    ch: CeremonyHome,
    state: VaultState | undefined,
    plaintexts: Map<string, Uint8Array<ArrayBuffer>> | undefined,
  ) {
    this.#ch = ch;
    this.#state = state;
    this.#plaintexts = plaintexts;
  }

  /** Reads (see {@linkcode beginVaultReissue}). */
  static async begin(ch: CeremonyHome, read: ReissueRead): Promise<VaultReissue> {
    if (read === "none") return new VaultReissue(ch, undefined, undefined);
    const state = await readVaultState(ch, { allowExpired: true });
    const plaintexts = read === "templates" ? await decryptTemplates(ch, state) : undefined;
    return new VaultReissue(ch, state, plaintexts);
  }

  #vault(part: string): VaultState {
    if (this.#state === undefined) {
      throw new Error(`A vault re-issue that read nothing cannot write the ${part}`);
    }
    return this.#state;
  }

  /**
   * Writes the vault parts asked for, the directory last, runs `afterDirectory`
   * and records the `key_rotated` event. Once only.
   */
  async commit(options: ReissueCommit): Promise<ReissueResult> {
    if (this.#committed) throw new Error("A vault re-issue is committed once");
    this.#committed = true;
    const ch = this.#ch;
    const { signers } = options;
    const step = options.onStep ?? (() => {});
    const directory = options.directory === undefined
      ? ch.directory
      : new AgentDirectory(options.directory);
    const written: ReissueWritten = {};
    if (options.capsets !== undefined) {
      written.capsets = await writeCapsets(ch, this.#vault("capability sets"), {
        signers,
        directory,
        bumpVersion: options.capsets.bumpVersion,
      });
      step("capsets", written);
    }
    if (options.templates === true) {
      const state = this.#vault("templates");
      if (this.#plaintexts === undefined) {
        throw new Error('Re-encrypting the templates needs a re-issue begun with read "templates"');
      }
      written.templates = await writeTemplateCiphertexts(ch, state, {
        plaintexts: this.#plaintexts,
        directory,
      });
      this.#zero();
      step("templates", written);
    }
    if (options.manifests === true) {
      written.manifests = await writeTemplateManifests(
        ch,
        this.#vault("template manifests"),
        signers,
      );
      step("manifests", written);
    }
    if (options.toolManifest === true) {
      written.toolManifestVersion = await writeToolManifest(
        ch,
        this.#vault("tool manifest"),
        signers,
      );
      written.codeManifestVersion = await writeCodeManifest(
        ch,
        this.#vault("code manifest"),
        signers,
      );
      step("toolManifest", written);
    }
    // last: a running supervisor applies the ceremony when the directory changes
    if (options.directory !== undefined) {
      await writeDirectory(ch, options.directory, signers);
      written.directoryVersion = options.directory.version;
      step("directory", written);
    }
    await options.afterDirectory?.();
    const recordedBy = await recordKeyEvent(ch.home, options.event, ch.clock, {
      config: ch.config,
      keys: ch.keys,
      before: ch.directory,
      after: directory,
    });
    return { ...written, recordedBy };
  }

  #zero(): void {
    for (const plain of this.#plaintexts?.values() ?? []) plain.fill(0);
  }

  /** Zeroes the template plaintexts (also done by a commit once they are re-encrypted). */
  [Symbol.dispose](): void {
    this.#zero();
  }
}

/**
 * Begins a vault re-issue on `ch`: reads and verifies what `read` names (expired
 * statements judged at their own `issued_at`, as every ceremony does). Writes
 * nothing; dispose of it (`using`) so template plaintexts are zeroed on every path.
 *
 * @example
 * ```ts ignore
 * using reissue = await beginVaultReissue(ch, "statements");
 * await reissue.commit({ signers, directory: next, capsets: { bumpVersion: false }, event });
 * ```
 */
export function beginVaultReissue(ch: CeremonyHome, read: ReissueRead): Promise<VaultReissue> {
  return VaultReissue.begin(ch, read);
}
