/**
 * The ledger's single-writer lock: an exclusive advisory lock (`flock`) on a lock
 * file beside the database (`audit/ledger.lock` for `audit/ledger.db`).
 *
 * Why a kernel lock rather than a create-new marker file: the kernel drops the lock
 * when the holder dies, even by SIGKILL, so a crashed supervisor never leaves a stale
 * lock that blocks the next start, and two live writers can never both hold it. The
 * file itself stays on close: unlinking it would let a waiting opener lock the old
 * inode while a third process creates and locks a new one (two writers). Its content
 * (pid, start time) is only information for the refusal message.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { utf8 } from "../../primitives/crypto/bytes.ts";

/** A held writer lock; {@linkcode WriterLock.release} frees it. */
export class WriterLock {
  #file: Deno.FsFile | undefined;
  /** Path of the lock file. */
  readonly path: string;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /**
   * Takes the exclusive lock on `path` or refuses, naming the file and its holder.
   *
   * @example
   * ```ts
   * import { WriterLock } from "./writer_lock.ts";
   * const dir = await Deno.makeTempDir();
   * const lock = await WriterLock.acquire(`${dir}/ledger.lock`);
   * lock.release();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async acquire(path: string): Promise<WriterLock> {
    const info = await Deno.lstat(path).catch(() => undefined);
    if (info !== undefined && !info.isFile) {
      // a planted symlink would make us lock (and truncate) a file elsewhere
      throw new SaoeError("unsafe_path", `Cannot lock ${path}: it is not a regular file`);
    }
    const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    let locked = false;
    try {
      locked = await file.tryLock(true);
      if (!locked) {
        const holder = await Deno.readTextFile(path).catch(() => "");
        throw new SaoeError(
          "io_error",
          `Cannot open the ledger for writing: lock file ${path} is held by another writer${
            holder.trim() === "" ? "" : ` (${holder.trim()})`
          }; the ledger has a single writer`,
        );
      }
      await file.truncate(0);
      await file.write(utf8(`pid ${Deno.pid} since ${new Date().toISOString()}\n`));
      return new WriterLock(path, file);
    } catch (err: unknown) {
      if (locked) await file.unlock().catch(() => {});
      file.close();
      throw err;
    }
  }

  /** Releases the lock (idempotent). */
  release(): void {
    const file = this.#file;
    if (file === undefined) return;
    this.#file = undefined;
    try {
      file.truncateSync(0);
      file.unlockSync();
    } finally {
      file.close();
    }
  }
}
