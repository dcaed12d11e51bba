/**
 * Is a supervisor running on this home? It holds the ledger's writer lock (an
 * exclusive `flock` the kernel drops when the holder dies, even by SIGKILL), so
 * the lock itself is the answer: no pid file to go stale.
 *
 * The probe opens the lock file read-only and never writes it: `saoe status` stays
 * a reader.
 *
 * @module
 */
import { ledgerPath } from "../../core/home/layout.ts";
import type { HomeLayout } from "../../core/home/layout.ts";
import { lockPathFor } from "../../core/ledger/ledger.ts";

/**
 * True when another process holds the ledger writer lock of `home`.
 *
 * @example
 * ```ts
 * import { pipelineRunning } from "./pipeline_probe.ts";
 * import { homeLayout } from "../../core/home/layout.ts";
 * const dir = await Deno.makeTempDir();
 * if (await pipelineRunning(homeLayout(dir))) throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export async function pipelineRunning(home: HomeLayout): Promise<boolean> {
  const path = lockPathFor(ledgerPath(home));
  const info = await Deno.lstat(path).catch(() => undefined);
  if (info === undefined || !info.isFile) return false;
  const file = await Deno.open(path, { read: true });
  try {
    const locked = await file.tryLock(true);
    if (locked) await file.unlock();
    return !locked;
  } finally {
    file.close();
  }
}
