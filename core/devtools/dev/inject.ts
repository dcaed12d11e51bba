/**
 * Dropping a file into an agent's inbox exactly as a sender would: temp file in
 * `agents/<receiver>/inbox/<sender>/`, fsync, rename to `<envelope_id>.satl` (or a
 * random UUID name when the bytes carry no usable envelope id). It runs as the
 * operator, outside any sandbox: a developer tool for reproducing a threat by
 * hand, never part of the pipeline.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { fromBase64 } from "../../primitives/crypto/bytes.ts";
import { type HomeLayout, inboxFromDir, SHARED_FILE_MODE } from "../../domain/home/layout.ts";
import { UUID_RE } from "../../primitives/ids/patterns.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";

/** Options for {@linkcode injectFile}. */
export interface InjectFileOptions {
  home: HomeLayout;
  /** The receiving agent (`agents/<receiver>/inbox/`). */
  receiver: string;
  /** The sender folder to write (`agents/<receiver>/inbox/<sender>/`). */
  sender: string;
  bytes: Uint8Array;
  /** Entry name without `.satl`; default the envelope id of `bytes`, else a random UUID. */
  entryId?: string;
}

/**
 * The `envelope_id` inside DSSE envelope bytes when there is a well-formed one,
 * read without verifying anything (only to name the file).
 *
 * @example
 * ```ts
 * import { peekEnvelopeId } from "./inject.ts";
 * const id = crypto.randomUUID();
 * const bytes = new TextEncoder().encode(JSON.stringify({
 *   payloadType: "t", payload: btoa(JSON.stringify({ envelope_id: id })), signatures: [],
 * }));
 * if (peekEnvelopeId(bytes) !== id) throw new Error();
 * if (peekEnvelopeId(new Uint8Array([1, 2])) !== undefined) throw new Error();
 * ```
 */
export function peekEnvelopeId(bytes: Uint8Array): string | undefined {
  try {
    const doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    const payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      fromBase64(String(doc.payload)),
    ));
    const id = payload?.envelope_id;
    return typeof id === "string" && UUID_RE.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes `bytes` atomically into `agents/<receiver>/inbox/<sender>/` and returns the
 * entry's path. Refuses a missing sender folder (the supervisor creates one per
 * sender the receiver's capset names) and a folder that is a symlink.
 *
 * @example
 * ```ts
 * import { injectFile } from "./inject.ts";
 * import { homeLayout } from "../../domain/home/layout.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/agents/planner/inbox/sanitization`, { recursive: true });
 * const path = await injectFile({
 *   home: homeLayout(root), receiver: "planner", sender: "sanitization",
 *   bytes: new TextEncoder().encode("{}"),
 * });
 * if (!path.endsWith(".satl")) throw new Error(path);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function injectFile(options: InjectFileOptions): Promise<string> {
  const folder = inboxFromDir(options.home, options.receiver, options.sender);
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(folder);
  } catch {
    throw new SaoeError(
      "io_error",
      `Cannot inject into ${folder}: no such inbox folder (agent "${options.receiver}" has no inbox for sender "${options.sender}"; is the pipeline set up on this home?)`,
      { agent: options.receiver, sender: options.sender },
    );
  }
  if (info.isSymlink || !info.isDirectory) {
    throw new SaoeError("unsafe_path", `Cannot inject into ${folder}: it is not a real folder`, {
      agent: options.receiver,
    });
  }
  const id = options.entryId ?? peekEnvelopeId(options.bytes) ?? crypto.randomUUID();
  if (!UUID_RE.test(id)) {
    throw new SaoeError("bad_identifier", `Invalid entry id ${JSON.stringify(id.slice(0, 80))}`);
  }
  const path = join(folder, `${id}.satl`);
  // the mode a sender writes with: the receiver reads it through the folder's group
  await writeFileAtomic(path, new Uint8Array(options.bytes), { mode: SHARED_FILE_MODE });
  return path;
}
