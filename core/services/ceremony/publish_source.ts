/**
 * What `saoe publish FILE` is asked to publish: a template source (the shape of
 * `vault/templates/<id>.json`) or a capability set source (the shape of
 * `vault/capsets/<agent>.json`), told apart by shape and then decoded strictly
 * with that kind's decoder (unknown fields, duplicate keys and wrong types are
 * refusals, exactly as at `saoe init`).
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { type CapsetSource, decodeCapsetSource } from "../../domain/capset/types.ts";
import {
  MAX_TEMPLATE_BYTES,
  MAX_TEMPLATE_DEPTH,
  parseTemplate,
} from "../../domain/vault/template_types.ts";
import type { Template } from "../../domain/vault/template_types.ts";

/** A source file to publish, decoded. `bytes` are exactly what the operator confirms. */
export type PublishSource =
  | {
    kind: "template";
    /** The template id. */
    id: string;
    version: number;
    template: Template;
    bytes: Uint8Array<ArrayBuffer>;
  }
  | {
    kind: "capset";
    /** The agent the capability set is for. */
    id: string;
    version: number;
    source: CapsetSource;
    bytes: Uint8Array<ArrayBuffer>;
  };

/**
 * Decodes `bytes` (the file named `name`, for messages) as a template or a
 * capability set source. Throws `parse_error` when it is neither.
 *
 * @example
 * ```ts
 * import { parsePublishSource } from "./publish_source.ts";
 * const bytes = new TextEncoder().encode(JSON.stringify({
 *   id: "note", version: 2, description: "A note", schema: { type: "object" },
 *   policy: { allowed_senders: ["planner"], allowed_receivers: ["deployment"], max_payload_bytes: 1024 },
 * }));
 * const source = parsePublishSource(bytes, "note.json");
 * if (source.kind !== "template" || source.version !== 2) throw new Error();
 * ```
 */
export function parsePublishSource(bytes: Uint8Array<ArrayBuffer>, name: string): PublishSource {
  const doc = parseStrictJson(bytes, {
    maxBytes: MAX_TEMPLATE_BYTES,
    maxDepth: MAX_TEMPLATE_DEPTH,
  });
  const has = (key: string) => Object.hasOwn(doc, key);
  if (has("payloadType") && has("signatures")) {
    throw new SaoeError(
      "parse_error",
      `Cannot publish ${name}: it is a signed statement; publish the reviewed source (templates/<id>.json or capsets/<agent>.json) and the ceremony signs it`,
    );
  }
  if (has("agent") && !has("id")) {
    const source = decodeCapsetSource(doc, "$");
    return { kind: "capset", id: source.agent, version: source.version, source, bytes };
  }
  if (has("id") && !has("agent")) {
    const template = parseTemplate(bytes);
    return { kind: "template", id: template.id, version: template.version, template, bytes };
  }
  throw new SaoeError(
    "parse_error",
    `Cannot publish ${name}: expected a template source (id, version, description, schema, policy) or a capability set source (agent, version, receives, sends, …)`,
  );
}
