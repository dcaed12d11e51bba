/**
 * What a `published` event vouches for: `detail.files`, the SHA-256 of the
 * exact bytes of every file deployment wrote under `output/<session>/`, by its
 * path inside that folder (`index.html`, `img/<sha256>.<jpg|png>`). Deployment
 * writes it (`output.ts`); the viewer serves and lists only files whose bytes
 * hash to it, and `saoe audit verify --outputs` checks every published session
 * against it (`output_audit.ts`): a file planted or replaced under `output/` by
 * anyone with write access to the home is refused as `output_mismatch`
 * (docs/design.md sections 7 and 8).
 *
 * @module
 */
import type { AuditEvent } from "../../domain/ledger/events.ts";
import { SHA256_HEX_RE } from "../../primitives/ids/patterns.ts";
import { MAX_IMAGES } from "./payloads.ts";

/** Name of the page inside `output/<session>/`. */
export const PAGE_NAME = "index.html";

/** The agent whose `published` events vouch for output files. */
export const PUBLISHING_AGENT = "deployment";

/** A file name `detail.files` may hold: the page or one image of the session. */
export const PUBLISHED_FILE_RE = /^(?:index\.html|img\/[0-9a-f]{64}\.(?:jpg|png))$/;

/** `detail.files` as deployment writes it: path inside `output/<session>/` → hex SHA-256. */
export type PublishedFiles = Record<string, string>;

/**
 * The files a `published` event vouches for, or `undefined` when it vouches for
 * none: another event type, not reported by deployment, no session, or a
 * `files` detail that is missing or malformed (an unknown name, a digest that is
 * not lowercase hex SHA-256, more files than a page and its images, no page).
 *
 * @example
 * ```ts
 * import { publishedFilesOf } from "./published_files.ts";
 * const files = publishedFilesOf({
 *   type: "published",
 *   at: "2026-01-01T00:00:00Z",
 *   agent: "deployment",
 *   session_id: "0f8fad5b-d9cb-469f-a165-70867728950e",
 *   detail: { files: { "index.html": "ab".repeat(32) } },
 * });
 * if (files?.get("index.html") !== "ab".repeat(32)) throw new Error();
 * ```
 */
export function publishedFilesOf(event: AuditEvent): ReadonlyMap<string, string> | undefined {
  if (
    event.type !== "published" || event.agent !== PUBLISHING_AGENT ||
    event.session_id === undefined
  ) {
    return undefined;
  }
  const files = event.detail?.files;
  if (typeof files !== "object" || files === null || Array.isArray(files)) return undefined;
  const entries = Object.entries(files);
  if (entries.length < 1 || entries.length > 1 + MAX_IMAGES) return undefined;
  const out = new Map<string, string>();
  for (const [name, digest] of entries) {
    if (!PUBLISHED_FILE_RE.test(name)) return undefined;
    if (typeof digest !== "string" || !SHA256_HEX_RE.test(digest)) return undefined;
    out.set(name, digest);
  }
  return out.has(PAGE_NAME) ? out : undefined;
}

/** Why a file or folder under `output/` is refused (the reason code is `output_mismatch`). */
export const OUTPUT_PROBLEMS = {
  unpublished: "no published event vouches for this session",
  unlisted: "the session's published event does not name this file",
  mismatch: "its bytes do not hash to the SHA-256 the session's published event names",
  missing: "the session's published event names this file, and it is missing",
  unsafe: "it is a link, a folder or another non-regular file, or over the size limit",
} as const;

/** One kind of refused output. */
export type OutputProblem = keyof typeof OUTPUT_PROBLEMS;

/** One file or folder under `output/` that no `published` event vouches for as it is. */
export interface OutputFinding {
  /** The session folder it is in, when its name is a session id. */
  session?: string;
  /** Home-relative path, e.g. `output/<session>/index.html` (a folder ends in `/`). */
  file: string;
  problem: OutputProblem;
  /** The SHA-256 of its bytes, when it could be read. */
  sha256?: string;
  /** The SHA-256 the published event names for it. */
  expected?: string;
}

/**
 * The identity of one state of a file, from its `lstat`/`fstat`: the same key
 * means the same bytes unless the file was rewritten in place and both its
 * modification and change times were reset (the change time cannot be set).
 *
 * @example
 * ```ts
 * import { fileStateKey } from "./published_files.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "x");
 * const key = fileStateKey(await Deno.lstat(`${dir}/a`));
 * if (key !== fileStateKey(await Deno.lstat(`${dir}/a`))) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function fileStateKey(info: Deno.FileInfo): string {
  return [
    info.dev,
    info.ino ?? "",
    info.size,
    info.mtime?.getTime() ?? "",
    info.ctime?.getTime() ?? "",
    info.isFile ? "f" : info.isSymlink ? "l" : info.isDirectory ? "d" : "o",
  ].join(":");
}
