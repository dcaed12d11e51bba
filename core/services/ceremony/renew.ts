/**
 * `saoe keys renew [root|directory|capsets|manifests|tools|all]`: re-signs the
 * named statements with the keys in force and fresh validity windows (the
 * lengths in `config.validity`), version + 1 where a version exists: the root
 * (root N+1 with the same keys and threshold, which root N's keys vouch for),
 * the directory (each agent's current key gets a fresh window too, the length of
 * `validity.agent_key_days`), each capability set (its payload `version`; a later
 * `saoe publish` of that capset's source must use a higher one), the tool
 * manifest and with it the code manifest (same pins). A template manifest's version is the template's own, so it is
 * re-signed at the same version.
 *
 * It works on an expired home (that is what it is for): every statement is
 * verified against the root in force before it is re-signed, only its window
 * is judged at its own `issued_at`. Writes run root, vault, directory last, as in
 * the other ceremonies, so a running supervisor only applies a complete state.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { writeRootFile } from "../../domain/trust/files.ts";
import { signRoot } from "../../domain/trust/root.ts";
import { openCeremonyHome, requireDispatcherSigners } from "./keys_home.ts";
import { nextDirectory } from "./keys_directory.ts";
import type { KeyEventRecorder } from "./keys_audit.ts";
import { beginVaultReissue } from "./vault_reissue.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

/** Statements `renew` can re-sign. */
export const RENEW_TARGETS = ["root", "directory", "capsets", "manifests", "tools"] as const;

/** One renewable statement kind. */
export type RenewTarget = typeof RENEW_TARGETS[number];

/** Options for {@linkcode renewStatements}. */
export interface RenewOptions {
  /** Dispatcher seeds brought from an offline export (`--dispatcher-key FILE`). */
  dispatcherSeeds?: readonly Uint8Array<ArrayBuffer>[];
  home: string;
  clock: Clock;
  /** What to renew (duplicates ignored). */
  targets: readonly RenewTarget[];
  progress?: (line: string) => void;
}

/** What was renewed. */
export interface RenewResult {
  rootVersion?: number;
  directoryVersion?: number;
  capsets?: string[];
  manifests?: string[];
  toolManifestVersion?: number;
  recordedBy: KeyEventRecorder;
}

/**
 * Renews `targets`.
 *
 * @example
 * ```ts ignore
 * await renewStatements({ home: ".saoe", clock: systemClock, targets: ["capsets"] });
 * ```
 */
export async function renewStatements(options: RenewOptions): Promise<RenewResult> {
  const progress = options.progress ?? (() => {});
  const targets = new Set(options.targets);
  if (targets.size === 0) {
    throw new SaoeError("bad_config", "Cannot renew: no statement kind was named");
  }
  const ch = await openCeremonyHome({
    home: options.home,
    clock: options.clock,
    allowExpired: true,
    ...(options.dispatcherSeeds !== undefined ? { dispatcherSeeds: options.dispatcherSeeds } : {}),
  });
  const signers = await requireDispatcherSigners(ch, `renew ${[...targets].join(", ")}`);
  const now = options.clock.now();
  const result: Omit<RenewResult, "recordedBy"> = {};
  // verify the vault under the root in force before anything changes
  const needsVault = targets.has("capsets") || targets.has("manifests") || targets.has("tools");
  using reissue = await beginVaultReissue(ch, needsVault ? "statements" : "none");
  // built first (written last): renewed key windows decide the capsets' recipients
  const directoryPayload = targets.has("directory")
    ? nextDirectory(ch.directoryPayload, {
      nowMs: now,
      validityDays: ch.config.validity.directory_days,
      renewKeysDays: ch.config.validity.agent_key_days,
    })
    : undefined;

  if (targets.has("root")) {
    const version = ch.root.version + 1;
    const bytes = await signRoot({
      payload: {
        version,
        issued_at: formatTimestamp(now),
        expires_at: formatTimestamp(now + ch.config.validity.root_days * DAY_MS),
        threshold: ch.root.threshold,
        keys: ch.root.payload.keys.map((k) => ({ ...k })),
      },
      signers,
    });
    await writeRootFile(ch.home.trust, version, bytes);
    result.rootVersion = version;
    progress(
      `Trust root v${version} written (same keys, expires in ${ch.config.validity.root_days} days)`,
    );
  }
  const written = await reissue.commit({
    signers,
    ...(directoryPayload !== undefined ? { directory: directoryPayload } : {}),
    ...(targets.has("capsets") ? { capsets: { bumpVersion: true } } : {}),
    manifests: targets.has("manifests"),
    toolManifest: targets.has("tools"),
    onStep: (step, w) => {
      if (step === "capsets") progress(`Re-signed ${w.capsets!.length} capability sets`);
      if (step === "manifests") progress(`Re-signed ${w.manifests!.length} template manifests`);
      if (step === "toolManifest") {
        progress(`Re-signed the tool manifest as v${w.toolManifestVersion}`);
      }
      if (step === "directory") {
        progress(`Agent key directory v${w.directoryVersion} written (current agent keys renewed)`);
      }
    },
    event: {
      kind: "renewed",
      statements: [...targets],
      ...(result.rootVersion !== undefined ? { root_version: result.rootVersion } : {}),
      ...(directoryPayload !== undefined ? { directory_version: directoryPayload.version } : {}),
    },
  });
  return { ...result, ...written };
}
