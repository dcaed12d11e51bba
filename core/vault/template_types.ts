/**
 * Templates and template manifests: the contract of one message kind between
 * agents, stored encrypted in the vault, each with a dispatcher-signed manifest
 * over its id, version and the SHA-256 of its plaintext bytes.
 *
 * @module
 */
import { anyObject, arr, type Decoded, int, obj, str } from "../json/decode.ts";
import { agentId, MAX_VERSION, sha256HexId, templateId } from "../ids/patterns.ts";
import { timestamp } from "../time/timestamp.ts";

/** Decoder for a template's plaintext (the JSON reviewed in git under `vault/templates/`). */
export const decodeTemplate = obj({
  id: templateId,
  version: int(1, MAX_VERSION),
  description: str({ maxLength: 1000 }),
  /** JSON Schema (2020-12) the envelope `payload` must satisfy. */
  schema: anyObject,
  policy: obj({
    allowed_senders: arr(agentId, 64),
    allowed_receivers: arr(agentId, 64),
    max_payload_bytes: int(1, 64 * 1024 * 1024),
  }),
});

/** A template's plaintext content. */
export type Template = Decoded<typeof decodeTemplate>;

/** Decoder for a template manifest payload (signed by the dispatcher). */
export const decodeTemplateManifest = obj({
  id: templateId,
  version: int(1, MAX_VERSION),
  sha256: sha256HexId,
  issued_at: timestamp,
  expires_at: timestamp,
});

/** A verified template manifest. */
export type TemplateManifest = Decoded<typeof decodeTemplateManifest>;
