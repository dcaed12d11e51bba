/**
 * The dead-letter record: every entry that is refused or whose handler fails ends
 * in `agents/<me>/dead/` as `<key>.satl` (the entry's bytes, when they were kept)
 * plus `<key>.reason.json`, the sidecar saying why. Nothing is dropped silently.
 *
 * `key` is the entry's envelope id when that name is free in `dead/`, a fresh UUID
 * otherwise (a second refusal of the same id must not overwrite the first). The
 * sidecar is written atomically before the entry is moved in, so a crash between
 * the two leaves the entry in quarantine (re-processed at startup) and at most an
 * orphan sidecar, which `listDead` reports.
 *
 * Sidecar fields: `code`, `message`, `ids`, `at` (RFC 3339), `file` (original
 * name), `sender` (inbox subfolder it came from; absent for `retry` entries),
 * `claimed` (true when this agent already claimed the envelope id: a retry must go
 * through `retry/`, not the inbox), `kept` (false when the entry was a symlink,
 * hard link, folder or other non-regular thing, which is unlinked, never followed).
 *
 * @module
 */
import { removeReleasingFifo } from "../../primitives/fs/release_fifo.ts";
import { join } from "node:path";
import type { RefusalIds } from "../../primitives/errors.ts";
import { SaoeError } from "../../primitives/errors.ts";
import { type Decoder, obj, optional, str } from "../../primitives/json/decode.ts";
import { bool, oneOf } from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { AGENT_ID_RE } from "../../primitives/ids/patterns.ts";
import { timestamp } from "../../primitives/time/timestamp.ts";
import { OTHER_CODES, type ReasonCode, VALIDATION_CODES } from "../../primitives/errors.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";

/** Suffix of a dead entry's bytes. */
export const DEAD_ENTRY_SUFFIX = ".satl";
/** Suffix of a dead entry's sidecar. */
export const DEAD_REASON_SUFFIX = ".reason.json";
/** Dead-letter keys: the envelope id, or a fresh UUID when that was taken. */
export const DEAD_KEY_RE = /^[0-9a-f-]{36}$/;

/** The sidecar of one dead entry. */
export interface DeadReason {
  code: ReasonCode;
  message: string;
  ids: RefusalIds;
  at: string;
  file: string;
  sender?: string;
  claimed: boolean;
  kept: boolean;
}

const idField = optional(str({ maxLength: 256 }));
const decodeIds: Decoder<RefusalIds> = obj({
  envelope_id: idField,
  session_id: idField,
  sender: idField,
  receiver: idField,
  template_id: idField,
  agent: idField,
  file: idField,
});

const decodeReason: Decoder<DeadReason> = obj({
  code: oneOf<ReasonCode>([...VALIDATION_CODES, ...OTHER_CODES]),
  message: str({ maxLength: 4096 }),
  ids: decodeIds,
  at: timestamp,
  file: str({ maxLength: 512 }),
  sender: optional(str({ pattern: AGENT_ID_RE, maxLength: 32 })),
  claimed: bool,
  kept: bool,
});

/** Largest sidecar read back. */
export const MAX_REASON_BYTES = 16 * 1024;

/** Serialises a sidecar. */
export function encodeDeadReason(reason: DeadReason): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(reason) + "\n");
}

/** Parses a sidecar strictly (unknown fields and wrong types are refusals, code `parse_error`). */
export function parseDeadReason(bytes: Uint8Array): DeadReason {
  return decodeReason(parseStrictJson(bytes, { maxBytes: MAX_REASON_BYTES }), "$");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Picks a free dead-letter key in `deadDir`, preferring the entry's own stem. */
export async function freeDeadKey(deadDir: string, name: string): Promise<string> {
  const stem = name.endsWith(DEAD_ENTRY_SUFFIX) ? name.slice(0, -DEAD_ENTRY_SUFFIX.length) : "";
  if (DEAD_KEY_RE.test(stem)) {
    const taken = await exists(join(deadDir, stem + DEAD_ENTRY_SUFFIX)) ||
      await exists(join(deadDir, stem + DEAD_REASON_SUFFIX));
    if (!taken) return stem;
  }
  return crypto.randomUUID();
}

/** Options for {@linkcode writeDeadRecord}. */
export interface WriteDeadRecordOptions {
  /** The agent's `dead/` folder. */
  deadDir: string;
  /** The entry's current path (in quarantine or the inbox). */
  path: string;
  /** The sidecar to record; `kept` decides whether the entry is moved in or unlinked. */
  reason: DeadReason;
}

/**
 * Records a dead entry: writes the sidecar atomically, then moves the entry into
 * `dead/<key>.satl` (`kept`) or unlinks it where it lies (not `kept`: a symlink is
 * removed as a link, its target is never touched). Returns the key.
 *
 * @example
 * ```ts
 * import { writeDeadRecord } from "./dead_record.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/x`, new Uint8Array([1]));
 * const key = await writeDeadRecord({ deadDir: dir, path: `${dir}/x`, reason: {
 *   code: "schema", message: "Invalid payload", ids: {}, at: new Date().toISOString(),
 *   file: "x", claimed: false, kept: true,
 * } });
 * await Deno.lstat(`${dir}/${key}.reason.json`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeDeadRecord(options: WriteDeadRecordOptions): Promise<string> {
  const { deadDir, path, reason } = options;
  const key = await freeDeadKey(deadDir, reason.file);
  try {
    await writeFileAtomic(join(deadDir, key + DEAD_REASON_SUFFIX), encodeDeadReason(reason));
    if (reason.kept) {
      await Deno.rename(path, join(deadDir, key + DEAD_ENTRY_SUFFIX));
    } else {
      // a symlink is unlinked as a link (its target is never touched); only a real
      // folder is removed recursively, and that removal does not descend through links
      const info = await Deno.lstat(path);
      const remove = () => Deno.remove(path, { recursive: info.isDirectory && !info.isSymlink });
      // a FIFO may hold the inbox watcher's thread: release it as it goes
      if (info.isFifo === true) await removeReleasingFifo(path, remove);
      else await remove();
    }
  } catch (err: unknown) {
    if (err instanceof SaoeError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new SaoeError("io_error", `Cannot move queue entry ${path} to dead letters: ${detail}`, {
      ...reason.ids,
      file: reason.file,
    });
  }
  return key;
}
