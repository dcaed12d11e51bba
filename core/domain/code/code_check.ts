/**
 * The supervisor's check of an agent's code before every spawn (docs/design.md
 * section 12): every file the signed code manifest pins for the agent must be a
 * regular file whose sha256 is the pinned one. A file that changed, went
 * missing or became a link refuses the agent with `code_hash_mismatch`, naming
 * the file.
 *
 * Hashes are remembered per file with its device, inode, size, modification and
 * status-change times: a file whose `ctime` has not moved has not been written
 * (no unprivileged process can set `ctime`), so a restart re-reads only what
 * changed.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import { agentCodeFiles, type CodeManifest } from "./manifest.ts";

interface Seen {
  key: string;
  sha256: string;
}

function statKey(info: Deno.FileInfo): string {
  return [info.dev, info.ino, info.size, info.mtime?.getTime(), info.ctime?.getTime()].join(":");
}

/**
 * Checks agents' code against a code manifest, remembering hashes of files
 * that did not change.
 *
 * @example
 * ```ts ignore
 * const checker = new CodeChecker("/opt/saoe");
 * await checker.check(manifest, "planner"); // throws code_hash_mismatch
 * ```
 */
export class CodeChecker {
  readonly #repo: string;
  readonly #seen = new Map<string, Seen>();

  /** A checker for the checkout at `repo` (absolute, symlink-free). */
  constructor(repo: string) {
    this.#repo = repo;
  }

  /** Resolves when every pinned file of `agent` is as signed; throws `code_hash_mismatch`. */
  async check(manifest: CodeManifest, agent: string): Promise<void> {
    const files = agentCodeFiles(manifest, agent);
    if (files.size === 0) {
      throw mismatch(agent, "(none)", "the code manifest pins no file for it");
    }
    for (const [path, expected] of files) {
      const actual = await this.#hash(path);
      if (actual === undefined) throw mismatch(agent, path, "it is missing or not a regular file");
      if (actual !== expected) {
        throw mismatch(agent, path, `its sha256 is ${actual}, the manifest pins ${expected}`);
      }
    }
  }

  async #hash(path: string): Promise<string | undefined> {
    const full = join(this.#repo, path);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(full);
    } catch {
      return undefined;
    }
    if (!info.isFile) return undefined;
    const key = statKey(info);
    const seen = this.#seen.get(path);
    if (seen !== undefined && seen.key === key) return seen.sha256;
    const sha256 = await sha256Hex(await Deno.readFile(full));
    // what was read must be what was stat'ed: a write in between is seen next time
    const after = await Deno.lstat(full).catch(() => undefined);
    if (after !== undefined && statKey(after) === key) this.#seen.set(path, { key, sha256 });
    return sha256;
  }
}

function mismatch(agent: string, file: string, why: string): SaoeError {
  return new SaoeError(
    "code_hash_mismatch",
    `Refusing to start agent "${agent}": its code file ${file} is not the one the code manifest ` +
      `pins (${why}). Fix: restore the file, or re-pin this checkout with ` +
      `"deno task saoe publish --code" if the change is intended`,
    { agent, file },
  );
}
