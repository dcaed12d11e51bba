/**
 * A {@linkcode VersionStore} persisted as one JSON file
 * (`{"versions":{"root":3,"directory":7}}`), replaced atomically on each raise.
 * The file is parsed strictly: a corrupt or tampered store is a refusal, never
 * read as "nothing seen yet" (which would re-open rollback). A missing file is an
 * empty store (first start).
 *
 * Writes from one process are serialised; the supervisor (or a CLI ceremony while
 * it is stopped) is the one writer.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { MAX_VERSION } from "../../primitives/ids/patterns.ts";
import { int, obj, record } from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { readTrustFile } from "./files.ts";
import type { VersionStore } from "./version_store.ts";

/** Keys a version store accepts: `root`, `directory`, `capset:planner`, … */
export const VERSION_KEY_RE = /^[a-z][a-z0-9_]{0,63}(?::[a-z0-9_.-]{1,64})?$/;

const MAX_STORE_BYTES = 256 * 1024;
const storeShape = obj({ versions: record(VERSION_KEY_RE, int(0, MAX_VERSION), 4096) });

/**
 * Highest versions in a JSON file.
 *
 * @example
 * ```ts
 * import { FileVersionStore } from "./version_store_file.ts";
 * const dir = await Deno.makeTempDir();
 * const store = new FileVersionStore(`${dir}/versions.json`);
 * await store.raise("root", 2);
 * await store.raise("root", 1);
 * if (await new FileVersionStore(`${dir}/versions.json`).highest("root") !== 2) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileVersionStore implements VersionStore {
  readonly #path: string;
  #queue: Promise<unknown> = Promise.resolve();

  /** A store kept at `path` (the file is created on the first raise). */
  constructor(path: string) {
    this.#path = path;
  }

  async #read(): Promise<Record<string, number>> {
    let bytes: Uint8Array;
    try {
      bytes = await readTrustFile(this.#path, MAX_STORE_BYTES);
    } catch (err: unknown) {
      if (err instanceof SaoeError && err.code === "io_error") {
        const missing = await Deno.lstat(this.#path).then(
          () => false,
          (e: unknown) => e instanceof Deno.errors.NotFound,
        );
        if (missing) return {};
      }
      throw err;
    }
    return storeShape(parseStrictJson(bytes, { maxBytes: MAX_STORE_BYTES }), "$").versions;
  }

  #serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Highest version recorded for `key`, or 0. */
  highest(key: string): Promise<number> {
    checkKey(key);
    return this.#serialised(async () => (await this.#read())[key] ?? 0);
  }

  /** Records `version` for `key` if higher than the recorded one (never lowers it). */
  raise(key: string, version: number): Promise<void> {
    checkKey(key);
    if (!Number.isSafeInteger(version) || version < 0 || version > MAX_VERSION) {
      return Promise.reject(
        new RangeError(`Version must be an integer from 0 to ${MAX_VERSION}, got ${version}`),
      );
    }
    return this.#serialised(async () => {
      const versions = await this.#read();
      if (version <= (versions[key] ?? 0)) return;
      const next: Record<string, number> = {};
      for (const k of Object.keys(versions).sort()) next[k] = versions[k]!;
      Object.defineProperty(next, key, {
        value: version,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      await writeFileAtomic(
        this.#path,
        new TextEncoder().encode(JSON.stringify({ versions: next })),
      );
    });
  }
}

function checkKey(key: string): void {
  if (!VERSION_KEY_RE.test(key)) throw new RangeError(`Invalid version store key ${key}`);
}
