/**
 * Where each vault entry lives. One folder per template (so a capability set can
 * grant read access to exactly the templates it names), one encrypted file per
 * capability set, one signed tool manifest.
 *
 * ```
 * vault/templates/<id>/<version>.age            template plaintext, age-encrypted
 * vault/templates/<id>/<version>.manifest.json  dispatcher-signed {id, version, sha256}
 * vault/capsets/<agent>.age                     signed capset (DSSE), age-encrypted
 * vault/tools.manifest.json                     dispatcher-signed tool manifest
 * ```
 *
 * @module
 */
import { join } from "node:path";
import {
  AGENT_ID_RE,
  assertIdentifier,
  MAX_VERSION,
  TEMPLATE_ID_RE,
} from "../../primitives/ids/patterns.ts";
import { SaoeError } from "../../primitives/errors.ts";

function checkVersion(version: number): number {
  if (!Number.isSafeInteger(version) || version < 1 || version > MAX_VERSION) {
    throw new SaoeError("bad_identifier", `Invalid template version ${version}`);
  }
  return version;
}

/** `vault/templates/<id>/`: the folder a capset grants for one template. */
export function templateDir(vault: string, id: string): string {
  return join(vault, "templates", assertIdentifier(id, TEMPLATE_ID_RE, "template id"));
}

/** `vault/templates/<id>/<version>.age`. */
export function templateCipherPath(vault: string, id: string, version: number): string {
  return join(templateDir(vault, id), `${checkVersion(version)}.age`);
}

/** `vault/templates/<id>/<version>.manifest.json`. */
export function templateManifestPath(vault: string, id: string, version: number): string {
  return join(templateDir(vault, id), `${checkVersion(version)}.manifest.json`);
}

/** `vault/capsets/<agent>.age`. */
export function capsetPath(vault: string, agent: string): string {
  return join(vault, "capsets", `${assertIdentifier(agent, AGENT_ID_RE, "agent id")}.age`);
}

/** `vault/code.manifest.json`: the dispatcher-signed hashes of every agent's code. */
export function codeManifestPath(vault: string): string {
  return join(vault, "code.manifest.json");
}

/** `vault/tools.manifest.json`. */
export function toolManifestPath(vault: string): string {
  return join(vault, "tools.manifest.json");
}
