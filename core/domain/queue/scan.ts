/**
 * The cheap scan of an inbox: one `readDir` per watched folder (each sender's
 * subfolder of `agents/<me>/inbox/`, and `agents/<me>/retry/`), skipping hidden and
 * temp names. Used at startup, by the reconciliation timer and by the polling
 * transport.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { AGENT_ID_RE } from "../../primitives/ids/patterns.ts";
import { isHiddenName } from "../../primitives/fs/atomic_write.ts";
import type { EntryOrigin } from "./types.ts";

/** One folder to scan or watch and the origin of what it holds. */
export interface WatchedFolder {
  dir: string;
  origin: EntryOrigin;
}

/** The folders of an inbox: one per sender, plus the retry folder when given. */
export function watchedFolders(
  inbox: string,
  senders: readonly string[],
  retryDir?: string,
): WatchedFolder[] {
  const folders: WatchedFolder[] = [];
  for (const sender of senders) {
    if (!AGENT_ID_RE.test(sender)) {
      throw new SaoeError(
        "bad_identifier",
        `Invalid sender ${JSON.stringify(sender)}: expected an agent id`,
      );
    }
    folders.push({ dir: join(inbox, sender), origin: { kind: "inbox", sender } });
  }
  if (retryDir !== undefined) folders.push({ dir: retryDir, origin: { kind: "retry" } });
  return folders;
}

/** Creates each folder that is missing (they exist normally). */
export async function ensureFolders(folders: readonly WatchedFolder[]): Promise<void> {
  for (const folder of folders) await Deno.mkdir(folder.dir, { recursive: true });
}

/** Calls `found` for every visible name in every folder; a folder that fails is reported to `onError`. */
export async function scanFolders(
  folders: readonly WatchedFolder[],
  found: (name: string, path: string, origin: EntryOrigin) => void,
  onError: (err: unknown) => void,
): Promise<void> {
  for (const folder of folders) {
    try {
      for await (const item of Deno.readDir(folder.dir)) {
        if (!isHiddenName(item.name)) found(item.name, join(folder.dir, item.name), folder.origin);
      }
    } catch (err: unknown) {
      onError(err);
    }
  }
}
