/**
 * Releasing a FIFO before it is removed. Deno's file watcher stops delivering
 * events when a FIFO is created in a watched folder: its thread blocks opening
 * the FIFO for reading, which completes only once a writer opens the other end.
 * A queue that finds a FIFO (a stray entry someone planted) therefore opens it
 * for writing without blocking (`O_NONBLOCK`: it fails at once with ENXIO when
 * nobody waits on it), unlinks it, and closes its end: the waiting reader gets
 * end-of-file and the watcher carries on.
 *
 * @module
 */
import { closeSync, constants, openSync } from "node:fs";

/**
 * Runs `remove` (which unlinks the FIFO at `path`) with the FIFO's write end
 * held open, so a reader blocked on it is released. Never blocks; when nobody
 * waits on it, just runs `remove`.
 *
 * @example
 * ```ts ignore
 * await removeReleasingFifo(path, () => Deno.remove(path));
 * ```
 */
export async function removeReleasingFifo(
  path: string,
  remove: () => Promise<void>,
): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch {
    // ENXIO (no reader waits), gone, or not a FIFO any more: nothing to release
  }
  try {
    await remove();
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
