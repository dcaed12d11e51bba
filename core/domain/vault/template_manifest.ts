/**
 * Verifies a template manifest: the dispatcher's signature and validity
 * (through the one statement verifier), then that it names the very template
 * id and version it was found for, so a valid manifest of another template or
 * version can never vouch for a file. Every reader of the vault (agents, the
 * supervisor's preflight, `capset check`, the key ceremonies) uses it.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { PAYLOAD_TYPES, type TrustedKeySet } from "../../primitives/dsse/types.ts";
import { verifyStatement } from "../../primitives/dsse/verify.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { MAX_MANIFEST_BYTES } from "./limits.ts";
import { decodeTemplateManifest, type TemplateManifest } from "./template_types.ts";

/** Options for {@linkcode verifyTemplateManifest}. */
export interface VerifyTemplateManifestOptions {
  dispatcher: TrustedKeySet;
  clock: Clock;
  skewMs: number;
  /** The template id and version the manifest was found for. */
  id: string;
  version: number;
}

/**
 * The verified manifest of template `id`@`version`; throws the verifier's
 * refusal, or `vault_resolution` when it names another template or version.
 *
 * @example
 * ```ts ignore
 * const manifest = await verifyTemplateManifest(bytes, { dispatcher, clock, skewMs, id, version });
 * ```
 */
export async function verifyTemplateManifest(
  bytes: Uint8Array,
  options: VerifyTemplateManifestOptions,
): Promise<TemplateManifest> {
  const { id, version } = options;
  const { payload } = await verifyStatement(bytes, {
    payloadType: PAYLOAD_TYPES.templateManifest,
    trusted: [options.dispatcher],
    signatureCode: "dispatcher_signature",
    what: `manifest of template ${id}@${version}`,
    decode: decodeTemplateManifest,
    clock: options.clock,
    skewMs: options.skewMs,
    maxBytes: MAX_MANIFEST_BYTES,
  });
  if (payload.id !== id || payload.version !== version) {
    throw new SaoeError(
      "vault_resolution",
      `The manifest of template ${id}@${version} is for ${payload.id}@${payload.version}`,
      { template_id: id },
    );
  }
  return payload;
}
