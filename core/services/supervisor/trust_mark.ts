/**
 * The verified trust state as the ledger's high-water mark records it: the
 * version of each kind in force ({@linkcode trustVersionsOf}: the trust root,
 * the agent key directory, each capability set, the newest manifest of each
 * template in the vault, the tool manifest), and the files each kind is read
 * from, for the refusal of a state below the mark ({@linkcode trustStateOf},
 * checked by `assertTrustFloor` of `core/domain/trust/trust_floor.ts`).
 *
 * @module
 */
import type { HomeLayout } from "../../domain/home/layout.ts";
import { capsetVersionKey } from "../../domain/capset/verify.ts";
import { DIRECTORY_VERSION_KEY } from "../../domain/trust/directory.ts";
import { ROOT_VERSION_KEY } from "../../domain/trust/chain.ts";
import { directoryFile, rootFolder } from "../../domain/trust/files.ts";
import {
  templateVersionKey,
  TOOL_MANIFEST_VERSION_KEY,
  type TrustStateVersions,
} from "../../domain/trust/trust_floor.ts";
import {
  capsetPath,
  templateDir,
  templateManifestPath,
  toolManifestPath,
} from "../../domain/vault/layout.ts";
import type { VerifiedTrustState } from "./preflight.ts";

/**
 * The version of each kind of `state`, keyed as the floor keys them.
 *
 * @example
 * ```ts ignore
 * const versions = trustVersionsOf(verified); // { root: 2, directory: 5, "capset:planner": 1, … }
 * ```
 */
export function trustVersionsOf(state: VerifiedTrustState): Record<string, number> {
  const versions: Record<string, number> = {};
  const set = (key: string, value: number) =>
    Object.defineProperty(versions, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  set(ROOT_VERSION_KEY, state.root.version);
  set(DIRECTORY_VERSION_KEY, state.directory.version);
  for (const [agent, capset] of state.capsets) set(capsetVersionKey(agent), capset.version);
  for (const [id, version] of state.templates) set(templateVersionKey(id), version);
  set(TOOL_MANIFEST_VERSION_KEY, state.toolManifest.version);
  return versions;
}

/** `state` as the floor judges it, with the home's file of each kind for messages. */
export function trustStateOf(home: HomeLayout, state: VerifiedTrustState): TrustStateVersions {
  return {
    versions: trustVersionsOf(state),
    directory: state.directory,
    fileOf(key: string): string {
      if (key === ROOT_VERSION_KEY) return rootFolder(home.trust);
      if (key === DIRECTORY_VERSION_KEY || key === "revoked_key") return directoryFile(home.trust);
      if (key === TOOL_MANIFEST_VERSION_KEY) return toolManifestPath(home.vault);
      const [kind, name = ""] = key.split(":");
      try {
        if (kind === "capset") return capsetPath(home.vault, name);
        if (kind === "template") {
          const newest = state.templates.get(name);
          return newest === undefined
            ? templateDir(home.vault, name)
            : templateManifestPath(home.vault, name, newest);
        }
      } catch {
        // a key no file is named by (recorded by another version of SAOE)
      }
      return `${home.root} (${key})`;
    },
  };
}
