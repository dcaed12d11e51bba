/**
 * Whether a process exists, for tests that check what a kill left behind.
 *
 * @module
 */

/** True while a process with `pid` exists (a signal to it is delivered). */
export function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}
