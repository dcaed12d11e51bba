/**
 * The signed tool manifest: which tool modules exist, the SHA-256 of each module
 * file's exact bytes, the JSON Schema of its arguments and its time limit. The
 * dispatcher signs it (payload type `application/vnd.saoe.tool-manifest.v1+json`);
 * ToolGate trusts a tool module only if its bytes hash to the manifest's digest.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES, type TrustedKeySet } from "../../primitives/dsse/types.ts";
import { verifyStatement } from "../../primitives/dsse/verify.ts";
import { anyObject, arr, type Decoded, int, obj, str } from "../../primitives/json/decode.ts";
import type { JsonValue } from "../../primitives/json/strict_parse.ts";
import { MAX_VERSION, sha256HexId, TOOL_NAME_RE } from "../../primitives/ids/patterns.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp, timestamp } from "../../primitives/time/timestamp.ts";
import { readToolModule } from "./module_file.ts";

/** Largest signed tool manifest accepted, in bytes (checked before parsing). */
export const MAX_TOOL_MANIFEST_BYTES = 256 * 1024;
/** Longest time limit a tool may be given. */
export const MAX_TOOL_TIMEOUT_MS = 600_000;
/**
 * A repo-relative module path: lowercase segments joined by `/`, ending in `.ts`.
 * It cannot express `..`, an absolute path, a backslash or a URL.
 */
export const TOOL_MODULE_RE = /^[a-z0-9_]+(?:\/[a-z0-9_]+)*\.ts$/;

const toolEntry = obj({
  name: str({ pattern: TOOL_NAME_RE, maxLength: 64, code: "bad_identifier", what: "a tool name" }),
  module: str({
    pattern: TOOL_MODULE_RE,
    maxLength: 256,
    code: "bad_identifier",
    what: "a repo-relative module path such as core/domain/toolgate/tools/x.ts",
  }),
  sha256: sha256HexId,
  args_schema: anyObject,
  timeout_ms: int(1, MAX_TOOL_TIMEOUT_MS),
});

/** One tool of the manifest. */
export type ToolEntry = Decoded<typeof toolEntry>;

const manifestShape = obj({
  version: int(1, MAX_VERSION),
  issued_at: timestamp,
  expires_at: timestamp,
  tools: arr(toolEntry, 64),
});

/** A tool manifest as signed by the dispatcher. */
export type ToolManifest = Decoded<typeof manifestShape>;

/** Strict decoder for a tool manifest payload; a tool named twice is refused. */
export function decodeToolManifest(value: unknown, path: string): ToolManifest {
  const manifest = manifestShape(value, path);
  const names = new Set<string>();
  for (const tool of manifest.tools) {
    if (names.has(tool.name)) {
      throw new SaoeError(
        "parse_error",
        `Invalid tool manifest: tool ${tool.name} is listed twice`,
      );
    }
    names.add(tool.name);
  }
  return manifest;
}

/** A tool as described before hashing: name, module path, schema and time limit. */
export interface ToolDefinition {
  name: string;
  module: string;
  args_schema: Record<string, JsonValue>;
  timeout_ms: number;
}

/**
 * Hashes a tool module under `repoRoot` and returns its manifest entry.
 *
 * @example
 * ```ts
 * import { describeTool } from "./manifest.ts";
 * const entry = await describeTool(new URL("../../..", import.meta.url).pathname, {
 *   name: "markdown_to_html",
 *   module: "core/domain/toolgate/tools/markdown_to_html.ts",
 *   args_schema: { type: "object", additionalProperties: false },
 *   timeout_ms: 10_000,
 * });
 * if (entry.sha256.length !== 64) throw new Error();
 * ```
 */
export async function describeTool(repoRoot: string, tool: ToolDefinition): Promise<ToolEntry> {
  const bytes = await readToolModule(repoRoot, tool.module);
  return toolEntry({ ...tool, sha256: await sha256Hex(bytes) }, "$");
}

/** Options for {@linkcode signToolManifest}. */
export interface SignToolManifestOptions {
  version: number;
  tools: readonly ToolEntry[];
  /** Dispatcher keys; a threshold of the trust root's keys must sign. */
  signers: readonly SigningKey[];
  /** Issue time in epoch milliseconds. */
  issuedAt: number;
  /** Validity in milliseconds from `issuedAt`; must be positive. */
  validForMs: number;
}

/**
 * Signs a tool manifest as the dispatcher.
 *
 * @example
 * ```ts
 * import { signToolManifest } from "./manifest.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const dispatcher = await SigningKey.fromSeed(generateSeed());
 * const bytes = await signToolManifest({
 *   version: 1, tools: [], signers: [dispatcher], issuedAt: Date.now(), validForMs: 60_000,
 * });
 * if (bytes.byteLength === 0) throw new Error();
 * ```
 */
export async function signToolManifest(
  options: SignToolManifestOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const { issuedAt, validForMs } = options;
  if (!Number.isSafeInteger(issuedAt) || !Number.isSafeInteger(validForMs) || validForMs <= 0) {
    throw new RangeError(
      `Cannot sign tool manifest: issuedAt ${issuedAt} and validForMs ${validForMs} must be integers, validForMs positive`,
    );
  }
  if (options.signers.length === 0) throw new RangeError("Cannot sign tool manifest: no signer");
  // decode before signing: a field the verifier would refuse is never signed
  const payload = decodeToolManifest({
    version: options.version,
    issued_at: formatTimestamp(issuedAt),
    expires_at: formatTimestamp(issuedAt + validForMs),
    tools: options.tools,
  }, "$");
  return await signStatement({
    payloadType: PAYLOAD_TYPES.toolManifest,
    payload,
    signers: options.signers,
  });
}

/** Options for {@linkcode verifyToolManifest}. */
export interface VerifyToolManifestOptions {
  /** The dispatcher keys and threshold of the verified trust root. */
  dispatcher: TrustedKeySet;
  clock: Clock;
  /** Allowed clock skew in milliseconds. */
  skewMs: number;
}

/**
 * Verifies a signed tool manifest: dispatcher signature (`dispatcher_signature`),
 * strict payload (`parse_error`, `bad_identifier`), freshness (`expired`).
 *
 * @example
 * ```ts
 * import { signToolManifest, verifyToolManifest } from "./manifest.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const dispatcher = await SigningKey.fromSeed(generateSeed());
 * const now = Date.now();
 * const bytes = await signToolManifest({
 *   version: 1, tools: [], signers: [dispatcher], issuedAt: now, validForMs: 60_000,
 * });
 * const manifest = await verifyToolManifest(bytes, {
 *   dispatcher: { name: "dispatcher", keys: [dispatcher], threshold: 1 },
 *   clock: { now: () => now },
 *   skewMs: 0,
 * });
 * if (manifest.version !== 1) throw new Error();
 * ```
 */
export async function verifyToolManifest(
  bytes: Uint8Array,
  options: VerifyToolManifestOptions,
): Promise<ToolManifest> {
  const verified = await verifyStatement(bytes, {
    payloadType: PAYLOAD_TYPES.toolManifest,
    trusted: [options.dispatcher],
    signatureCode: "dispatcher_signature",
    what: "tool manifest",
    decode: decodeToolManifest,
    clock: options.clock,
    skewMs: options.skewMs,
    maxBytes: MAX_TOOL_MANIFEST_BYTES,
  });
  return verified.payload;
}
