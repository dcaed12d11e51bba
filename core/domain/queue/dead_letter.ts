/**
 * Dead-letter handling for `saoe quarantine list|retry|drop`.
 *
 * Retry is where the replay claim matters. An entry refused before step 14 was
 * never claimed: retry moves it back into the sender's inbox folder, where it is
 * validated from scratch like any new arrival. A `handler_error` entry (and any
 * entry refused while being retried) was already claimed by this agent, so moving
 * it back into the inbox would only earn a `replay` refusal. Its sidecar says
 * `claimed: true`, and retry moves it into `agents/<me>/retry/` instead; the
 * agent's watcher reports it with origin `retry`, and the validator re-runs steps
 * 1-13 and requires the existing claim rather than making a new one. Senders
 * cannot write `retry/`, so this path cannot be used to replay an envelope.
 *
 * Entries that were not kept (a symlink, hard link or folder, unlinked when it was
 * refused) cannot be retried, only dropped. Every move is one rename, so an entry
 * is in exactly one place; the sidecar is removed after the move.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { assertIdentifier } from "../../primitives/ids/patterns.ts";
import { syncFolder } from "../../primitives/fs/atomic_write.ts";
import {
  DEAD_ENTRY_SUFFIX,
  DEAD_KEY_RE,
  DEAD_REASON_SUFFIX,
  type DeadReason,
  MAX_REASON_BYTES,
  parseDeadReason,
} from "./dead_record.ts";
import { ENTRY_NAME_RE, entryKind } from "./entry_check.ts";
import { lstatOrNull } from "../../primitives/fs/lstat_or_null.ts";

/** One dead-letter record as listed. */
export interface DeadEntry {
  /** The record's key (`dead/<key>.satl`, `dead/<key>.reason.json`). */
  key: string;
  /** Path of the kept entry, or null when there is none. */
  entryPath: string | null;
  /** The sidecar, or null when it is missing or unreadable (see `problem`). */
  reason: DeadReason | null;
  /** Why the record is incomplete, when it is. */
  problem?: string;
}

async function readReason(path: string): Promise<DeadReason> {
  const info = await Deno.lstat(path);
  if (entryKind(info) !== "file" || info.size > MAX_REASON_BYTES) {
    throw new SaoeError("unsafe_path", `Cannot read ${path}: expected a small regular file`);
  }
  return parseDeadReason(await Deno.readFile(path));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Lists the dead-letter records of an agent's `dead/` folder, sorted by time.
 *
 * @example
 * ```ts
 * import { listDead } from "./dead_letter.ts";
 * const dead = await Deno.makeTempDir();
 * if ((await listDead(dead)).length !== 0) throw new Error();
 * await Deno.remove(dead);
 * ```
 */
export async function listDead(deadDir: string): Promise<DeadEntry[]> {
  const keys = new Set<string>();
  const strays: string[] = [];
  for await (const item of Deno.readDir(deadDir)) {
    if (item.name.startsWith(".")) continue;
    const key = item.name.endsWith(DEAD_REASON_SUFFIX)
      ? item.name.slice(0, -DEAD_REASON_SUFFIX.length)
      : item.name.endsWith(DEAD_ENTRY_SUFFIX)
      ? item.name.slice(0, -DEAD_ENTRY_SUFFIX.length)
      : "";
    if (DEAD_KEY_RE.test(key)) keys.add(key);
    else strays.push(item.name);
  }
  const out: DeadEntry[] = [];
  for (const key of keys) {
    const entryPath = join(deadDir, key + DEAD_ENTRY_SUFFIX);
    const entry: DeadEntry = {
      key,
      entryPath: await lstatOrNull(entryPath) === null ? null : entryPath,
      reason: null,
    };
    try {
      entry.reason = await readReason(join(deadDir, key + DEAD_REASON_SUFFIX));
      if (entry.reason.kept && entry.entryPath === null) {
        entry.problem = "the entry file is missing";
      }
    } catch (err: unknown) {
      entry.problem = err instanceof Deno.errors.NotFound
        ? "no reason was recorded"
        : `the reason cannot be read: ${describe(err)}`;
    }
    out.push(entry);
  }
  for (const name of strays) {
    out.push({ key: name, entryPath: null, reason: null, problem: "not a dead-letter record" });
  }
  return out.sort((a, b) => (a.reason?.at ?? "").localeCompare(b.reason?.at ?? ""));
}

/** Options for {@linkcode retryDead}. */
export interface RetryDeadOptions {
  /** The agent's `dead/` folder. */
  deadDir: string;
  /** The agent's inbox, `agents/<me>/inbox/`. */
  inbox: string;
  /** The agent's `retry/` folder. */
  retryDir: string;
  /** The record to retry. */
  key: string;
}

/**
 * Moves a dead entry back for another run: into `agents/<me>/inbox/<sender>/` when it was
 * never claimed, into `retry/` when it was. Returns the entry's new path. Refuses
 * (`unsafe_path`) an entry that was not kept or has no valid entry name, and
 * (`io_error`) a record without a sidecar or a destination that is taken.
 *
 * @example
 * ```ts
 * import { retryDead } from "./dead_letter.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await retryDead({ deadDir: dir, inbox: dir, retryDir: dir, key: crypto.randomUUID() });
 *   throw new Error("expected a refusal");
 * } catch (err) {
 *   if (!(err instanceof Error) || !err.message.includes("no dead-letter record")) throw err;
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function retryDead(options: RetryDeadOptions): Promise<string> {
  const key = assertIdentifier(options.key, DEAD_KEY_RE, "dead-letter key");
  const reasonPath = join(options.deadDir, key + DEAD_REASON_SUFFIX);
  const entryPath = join(options.deadDir, key + DEAD_ENTRY_SUFFIX);
  let reason: DeadReason;
  try {
    reason = await readReason(reasonPath);
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) {
      throw new SaoeError(
        "io_error",
        `Cannot retry ${key}: there is no dead-letter record ${reasonPath}`,
      );
    }
    throw err;
  }
  const ids = { ...reason.ids, file: reason.file };
  if (!reason.kept || !ENTRY_NAME_RE.test(reason.file)) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot retry ${key}: it was refused as ${reason.code} and has no entry that can run again`,
      ids,
    );
  }
  const info = await lstatOrNull(entryPath);
  if (info === null || entryKind(info) !== "file") {
    throw new SaoeError(
      "unsafe_path",
      `Cannot retry ${key}: ${entryPath} is not a regular file with one link`,
      ids,
    );
  }
  let folder: string;
  if (reason.claimed) {
    folder = options.retryDir;
    await Deno.mkdir(folder, { recursive: true });
  } else if (reason.sender !== undefined) {
    folder = join(options.inbox, reason.sender);
  } else {
    throw new SaoeError("io_error", `Cannot retry ${key}: the record names no sender folder`, ids);
  }
  const target = join(folder, reason.file);
  if (await lstatOrNull(target) !== null) {
    throw new SaoeError("io_error", `Cannot retry ${key}: ${target} already exists`, ids);
  }
  await Deno.rename(entryPath, target);
  await syncFolder(folder);
  await Deno.remove(reasonPath);
  return target;
}

/** Options for {@linkcode dropDead}. */
export interface DropDeadOptions {
  /** The agent's `dead/` folder. */
  deadDir: string;
  /** The record to delete. */
  key: string;
}

/**
 * Deletes a dead-letter record (entry and sidecar) for good.
 *
 * @example
 * ```ts
 * import { dropDead } from "./dead_letter.ts";
 * const dead = await Deno.makeTempDir();
 * const key = crypto.randomUUID();
 * await Deno.writeTextFile(`${dead}/${key}.satl`, "x");
 * await dropDead({ deadDir: dead, key });
 * await Deno.remove(dead);
 * ```
 */
export async function dropDead(options: DropDeadOptions): Promise<void> {
  const key = assertIdentifier(options.key, DEAD_KEY_RE, "dead-letter key");
  let removed = 0;
  for (const suffix of [DEAD_ENTRY_SUFFIX, DEAD_REASON_SUFFIX]) {
    try {
      // Deno.remove unlinks a planted symlink itself, never its target
      await Deno.remove(join(options.deadDir, key + suffix));
      removed++;
    } catch (err: unknown) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  if (removed === 0) {
    throw new SaoeError("io_error", `Cannot drop ${key}: there is no such dead-letter record`);
  }
}
