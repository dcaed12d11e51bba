/**
 * The two tools SAOE ships, as unsigned definitions: module path, argument schema
 * and time limit. `saoe init` hashes and signs them into the tool manifest with
 * {@linkcode describeTool} and {@linkcode signToolManifest}.
 *
 * @module
 */
import type { ToolDefinition } from "./manifest.ts";

/** `markdown_to_html`: UTF-8 Markdown in, sanitised UTF-8 HTML out; no arguments. */
export const MARKDOWN_TO_HTML: ToolDefinition = {
  name: "markdown_to_html",
  module: "core/domain/toolgate/tools/markdown_to_html.ts",
  args_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: {},
    additionalProperties: false,
  },
  timeout_ms: 15_000,
};

/** `image_sanitize`: JPEG/PNG in, re-encoded metadata-free image out. */
export const IMAGE_SANITIZE: ToolDefinition = {
  name: "image_sanitize",
  module: "core/domain/toolgate/tools/image_sanitize.ts",
  args_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: {
      format: { type: "string", enum: ["jpeg", "png"] },
      resize_max: { type: "integer", minimum: 16, maximum: 16384 },
    },
    required: ["format", "resize_max"],
    additionalProperties: false,
  },
  timeout_ms: 30_000,
};

/**
 * Every built-in tool definition.
 *
 * @example
 * ```ts
 * import { BUILTIN_TOOLS } from "./builtin_tools.ts";
 * if (BUILTIN_TOOLS.length !== 2) throw new Error();
 * ```
 */
export const BUILTIN_TOOLS: readonly ToolDefinition[] = [MARKDOWN_TO_HTML, IMAGE_SANITIZE];
