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
import { ledgerPath } from "../../core/domain/home/layout.ts";
import type { HomeLayout } from "../../core/domain/home/layout.ts";
import { ledgerWriterRunning } from "../../core/domain/ledger/ledger.ts";

/**
 * True when another process holds the ledger writer lock of `home`.
 *
 * @example
 * ```ts
 * import { pipelineRunning } from "./pipeline_probe.ts";
 * import { homeLayout } from "../../core/domain/home/layout.ts";
 * const dir = await Deno.makeTempDir();
 * if (await pipelineRunning(homeLayout(dir))) throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export function pipelineRunning(home: HomeLayout): Promise<boolean> {
  return ledgerWriterRunning(ledgerPath(home));
}
