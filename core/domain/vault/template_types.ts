/**
 * Templates and template manifests: the contract of one message kind between
 * agents, stored encrypted in the vault, each with a dispatcher-signed manifest
 * over its id, version and the SHA-256 of its plaintext bytes.
 *
 * @module
 */
import { anyObject, arr, type Decoded, int, obj, str } from "../../primitives/json/decode.ts";
import { agentId, MAX_VERSION, sha256HexId, templateId } from "../../primitives/ids/patterns.ts";
import { timestamp } from "../../primitives/time/timestamp.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";

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

/** Largest template plaintext in bytes (checked before parsing). */
export const MAX_TEMPLATE_BYTES = 1024 * 1024;

/** Deepest nesting a template's JSON may have (a JSON Schema nests, but not without bound). */
export const MAX_TEMPLATE_DEPTH = 64;

/**
 * Parses a template's exact plaintext bytes strictly and decodes them: duplicate
 * keys, unknown fields, wrong types and oversize input are refusals.
 *
 * @example
 * ```ts
 * import { parseTemplate } from "./template_types.ts";
 * const t = parseTemplate(new TextEncoder().encode(JSON.stringify({
 *   id: "note", version: 1, description: "A note", schema: { type: "object" },
 *   policy: { allowed_senders: ["planner"], allowed_receivers: ["deployment"], max_payload_bytes: 1024 },
 * })));
 * if (t.id !== "note") throw new Error();
 * ```
 */
export function parseTemplate(bytes: Uint8Array): Template {
  return decodeTemplate(
    parseStrictJson(bytes, { maxBytes: MAX_TEMPLATE_BYTES, maxDepth: MAX_TEMPLATE_DEPTH }),
    "$",
  );
}
