/**
 * Queue depth from the outside: how many entries wait in an agent's inbox, counted
 * with one `readDir` per sender folder (temp and hidden names skipped). Senders
 * and intake use it for `max_inbox_depth` (503 when full); `saoe status` shows it.
 *
 * @module
 */
import { isHiddenName } from "../../primitives/fs/atomic_write.ts";
import { watchedFolders } from "./scan.ts";

/** Options for {@linkcode inboxDepth}. */
export interface InboxDepthOptions {
  /** `agents/<agent>/inbox/`. */
  inbox: string;
  /** The sender folders to count; a missing folder counts as empty. */
  senders: readonly string[];
}

/**
 * Counts the entries waiting in an inbox.
 *
 * @example
 * ```ts
 * import { inboxDepth } from "./depth.ts";
 * const inbox = await Deno.makeTempDir();
 * await Deno.mkdir(`${inbox}/planner`);
 * await Deno.writeTextFile(`${inbox}/planner/${crypto.randomUUID()}.satl`, "x");
 * await Deno.writeTextFile(`${inbox}/planner/.tmp-1`, "x");
 * if (await inboxDepth({ inbox, senders: ["planner", "intake"] }) !== 1) throw new Error();
 * await Deno.remove(inbox, { recursive: true });
 * ```
 */
export async function inboxDepth(options: InboxDepthOptions): Promise<number> {
  let count = 0;
  for (const folder of watchedFolders(options.inbox, options.senders)) {
    try {
      for await (const item of Deno.readDir(folder.dir)) {
        if (!isHiddenName(item.name)) count++;
      }
    } catch (err: unknown) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return count;
}
