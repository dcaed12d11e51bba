/**
 * The per-entry pipeline (docs/design.md sections 3 and 10), with its I/O around an
 * injected validator and handler:
 *
 * 1. `lstat` the entry where it was found; refuse (`unsafe_path`) a symlink, hard
 *    link, folder, other non-regular file or a name that is not `<uuid>.satl`.
 * 2. Move it into `agents/<me>/quarantine/` (same file system, one rename), as
 *    `in.<sender>.<name>` (not yet claimed) or `claimed.<name>` (retry), then
 *    `lstat` it again there: a sender that swapped the entry between the check and
 *    the move is caught, and from here on no sender can touch the file.
 * 3. `validate` reads it once and returns the parsed value (the handler works on
 *    that value, never re-reads the file). It ends with the replay claim, so an
 *    inbox entry that validates is renamed `claimed.<name>`.
 * 4. `handle` runs; on success the entry is deleted.
 *
 * Any refusal moves the entry to `dead/` with a `<key>.reason.json` sidecar and
 * calls `onRefused`; a handler failure does the same with `handler_error` and calls
 * `onHandlerError`. A crash leaves the entry in quarantine, and
 * {@linkcode recoverQuarantine} re-processes it at startup (an `in.*` entry from
 * the start, a `claimed.*` one as a retry). Every entry therefore ends deleted
 * after its handler succeeded or in `dead/` with a reason.
 *
 * @module
 */
import { basename, join } from "node:path";
import { isSaoeError, type RefusalIds, SaoeError } from "../../primitives/errors.ts";
import { AGENT_ID_RE } from "../../primitives/ids/patterns.ts";
import { type Clock, systemClock } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import { isHiddenName } from "../../primitives/fs/atomic_write.ts";
import { type DeadReason, writeDeadRecord } from "./dead_record.ts";
import { checkEntryInfo, ENTRY_NAME_RE, UnsafeEntryError } from "./entry_check.ts";
import type { EntryOrigin, QueuedEntry } from "./types.ts";
import { lstatOrNull } from "../../primitives/fs/lstat_or_null.ts";

/** How an entry ended. `gone`: nothing was there any more (already taken). */
export type ProcessOutcome = "handled" | "dead" | "gone";

/** The injected steps and folders of {@linkcode processEntry}. */
export interface PipelineOptions<T> {
  /** The agent's `quarantine/` folder (same file system as the inbox). */
  quarantineDir: string;
  /** The agent's `dead/` folder. */
  deadDir: string;
  /** Reads the entry once and validates it (steps 1-14); throws a `SaoeError` to refuse. */
  validate(entry: QueuedEntry): Promise<T>;
  /** Acts on a validated entry; throwing sends the entry to `dead/` as `handler_error`. */
  handle(value: T, entry: QueuedEntry): Promise<void>;
  /** The ids of a validated value, for the dead-letter record and `onHandlerError`. */
  idsOf?(value: T): RefusalIds;
  /** Told about every refusal after the entry is in `dead/` (emit the `rejected` event here). */
  onRefused?(err: SaoeError, ids: RefusalIds): void | Promise<void>;
  /** Told about every handler failure after the entry is in `dead/`. */
  onHandlerError?(err: unknown, ids: RefusalIds): void | Promise<void>;
  /** Clock for the sidecar's `at`; default the system clock. */
  clock?: Clock;
}

/** Options for {@linkcode processEntry}. */
export interface ProcessEntryOptions<T> extends PipelineOptions<T> {
  /** The entry where it was found: `agents/<me>/inbox/<sender>/<name>` or `agents/<me>/retry/<name>`. */
  path: string;
  /** Where it was found. */
  origin: EntryOrigin;
}

const IN_RE = /^in\.([a-z][a-z0-9_]{0,31})\.([0-9a-f-]{36}\.satl)$/;
const CLAIMED_RE = /^claimed\.([0-9a-f-]{36}\.satl)$/;

function quarantineName(name: string, origin: EntryOrigin): string {
  if (origin.kind === "retry") return `claimed.${name}`;
  if (!AGENT_ID_RE.test(origin.sender)) {
    throw new SaoeError("bad_identifier", `Invalid sender folder ${JSON.stringify(origin.sender)}`);
  }
  return `in.${origin.sender}.${name}`;
}

function ioError(err: unknown, what: string, ids: RefusalIds): SaoeError {
  if (err instanceof SaoeError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new SaoeError("io_error", `${what}: ${detail}`, ids);
}

interface Context<T> {
  options: PipelineOptions<T>;
  name: string;
  origin: EntryOrigin;
  /** Found in quarantine at startup rather than in an inbox. */
  recovered?: boolean;
}

async function toDead<T>(
  ctx: Context<T>,
  path: string,
  err: SaoeError,
  extra: { claimed: boolean; kept: boolean },
): Promise<void> {
  const reason: DeadReason = {
    code: err.code,
    message: err.message,
    ids: err.ids,
    at: formatTimestamp((ctx.options.clock ?? systemClock).now()),
    file: ctx.name,
    claimed: extra.claimed,
    kept: extra.kept,
  };
  if (ctx.origin.kind === "inbox") reason.sender = ctx.origin.sender;
  await writeDeadRecord({ deadDir: ctx.options.deadDir, path, reason });
}

async function refuse<T>(
  ctx: Context<T>,
  path: string,
  err: SaoeError,
  extra: { claimed: boolean; kept: boolean },
): Promise<"dead"> {
  await toDead(ctx, path, err, extra);
  await ctx.options.onRefused?.(err, err.ids);
  return "dead";
}

// an unsafe thing is recorded, then unlinked as itself; only a regular file with a
// bad name is kept (its bytes may matter to the operator and cannot reach elsewhere)
async function refuseUnsafe<T>(
  ctx: Context<T>,
  path: string,
  err: UnsafeEntryError,
): Promise<"dead"> {
  const kept = err.kind === "file";
  const refusal = err.withIds({ file: ctx.name });
  return await refuse(ctx, path, refusal, { claimed: ctx.origin.kind === "retry", kept });
}

/**
 * Runs one entry through the pipeline: check, quarantine, validate, handle, delete;
 * or `dead/` with a reason. Resolves to how it ended; rejects (`io_error`) only
 * when the file system fails, leaving the entry where it was (inbox or quarantine)
 * to be picked up again.
 *
 * @example
 * ```ts
 * import { processEntry } from "./process.ts";
 * const dir = await Deno.makeTempDir();
 * for (const d of ["a", "q", "d"]) await Deno.mkdir(`${dir}/${d}`);
 * const path = `${dir}/a/${crypto.randomUUID()}.satl`;
 * await Deno.writeTextFile(path, "hello");
 * const outcome = await processEntry({
 *   path, origin: { kind: "inbox", sender: "a" }, quarantineDir: `${dir}/q`, deadDir: `${dir}/d`,
 *   validate: (entry) => Deno.readTextFile(entry.path),
 *   handle: async (text) => { if (text !== "hello") throw new Error("unexpected"); },
 * });
 * if (outcome !== "handled") throw new Error(outcome);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function processEntry<T>(options: ProcessEntryOptions<T>): Promise<ProcessOutcome> {
  const name = basename(options.path);
  const ctx: Context<T> = { options, name, origin: options.origin };
  const ids: RefusalIds = { file: name };
  let info: Deno.FileInfo | null;
  try {
    info = await lstatOrNull(options.path);
  } catch (err: unknown) {
    throw ioError(err, `Cannot inspect queue entry ${options.path}`, ids);
  }
  if (info === null) return "gone";
  try {
    checkEntryInfo(options.path, info, name);
  } catch (err: unknown) {
    if (err instanceof UnsafeEntryError) return await refuseUnsafe(ctx, options.path, err);
    throw err;
  }
  const qpath = join(options.quarantineDir, quarantineName(name, options.origin));
  try {
    // two entries of one name are never in flight together (the watcher keys by
    // name and recovery runs first), so an occupied slot is a bug, not a race
    if (await lstatOrNull(qpath) !== null) {
      throw new SaoeError(
        "io_error",
        `Cannot quarantine ${options.path}: ${qpath} is occupied`,
        ids,
      );
    }
    await Deno.rename(options.path, qpath);
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return "gone";
    throw ioError(err, `Cannot quarantine queue entry ${options.path}`, ids);
  }
  return await runQuarantined(ctx, qpath);
}

async function runQuarantined<T>(ctx: Context<T>, qpath: string): Promise<ProcessOutcome> {
  const { options, name, origin } = ctx;
  let current = qpath;
  // the entry was checked before the move; check what actually arrived
  try {
    checkEntryInfo(current, await Deno.lstat(current), name);
  } catch (err: unknown) {
    if (err instanceof UnsafeEntryError) return await refuseUnsafe(ctx, current, err);
    throw ioError(err, `Cannot inspect quarantined entry ${current}`, { file: name });
  }
  const entry: QueuedEntry = { path: current, name, origin };
  let value: T;
  try {
    value = await options.validate(entry);
  } catch (err: unknown) {
    // a validator bug or I/O failure is a refusal too: fail closed, keep the bytes
    const refusal = isSaoeError(err)
      ? err.withIds({ file: name })
      : ioError(err, `Cannot validate queue entry ${name}`, { file: name });
    // after a crash between the claim and the rename to `claimed.`, a recovered
    // entry's replay refusal is this agent's own claim: record it as claimed
    const claimed = origin.kind === "retry" ||
      (ctx.recovered === true && refusal.code === "replay");
    return await refuse(ctx, current, refusal, { claimed, kept: true });
  }
  const ids: RefusalIds = { ...options.idsOf?.(value), file: name };
  if (origin.kind === "inbox") {
    // the claim is made: from here a crash must lead to a retry, not a replay refusal
    const claimed = join(options.quarantineDir, `claimed.${name}`);
    try {
      await Deno.rename(current, claimed);
    } catch (err: unknown) {
      throw ioError(err, `Cannot mark quarantined entry ${name} as claimed`, ids);
    }
    current = claimed;
  }
  try {
    await options.handle(value, { path: current, name, origin });
  } catch (err: unknown) {
    const detail = err instanceof Error ? err.message : String(err);
    const failure = new SaoeError(
      "handler_error",
      `Handler failed for queue entry ${name}: ${detail}`,
      ids,
      {
        cause: err,
      },
    );
    await toDead(ctx, current, failure, { claimed: true, kept: true });
    await options.onHandlerError?.(err, ids);
    return "dead";
  }
  try {
    await Deno.remove(current);
  } catch (err: unknown) {
    throw ioError(err, `Cannot delete handled queue entry ${name}`, ids);
  }
  return "handled";
}

/** Options for {@linkcode recoverQuarantine}. */
export type RecoverQuarantineOptions<T> = PipelineOptions<T>;

/** What {@linkcode recoverQuarantine} did, by outcome. */
export interface RecoveryReport {
  handled: number;
  dead: number;
}

/**
 * Re-processes every entry a crash left in quarantine; run it at startup before
 * the inbox watcher's scan. `in.<sender>.<name>` entries run the whole pipeline
 * again (a crash between the replay claim and the rename to `claimed.` shows up
 * as a `replay` refusal recorded with `claimed: true`, so it can still be retried);
 * `claimed.<name>` entries run as retries. Anything else found there is moved to
 * `dead/` as `unsafe_path`.
 *
 * @example
 * ```ts
 * import { recoverQuarantine } from "./process.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/q`);
 * await Deno.mkdir(`${dir}/d`);
 * await Deno.writeTextFile(`${dir}/q/in.planner.${crypto.randomUUID()}.satl`, "x");
 * const seen: string[] = [];
 * const report = await recoverQuarantine({
 *   quarantineDir: `${dir}/q`, deadDir: `${dir}/d`,
 *   validate: (entry) => Promise.resolve(entry.origin.kind),
 *   handle: (kind) => { seen.push(kind); return Promise.resolve(); },
 * });
 * if (report.handled !== 1 || seen[0] !== "inbox") throw new Error("unexpected");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function recoverQuarantine<T>(
  options: RecoverQuarantineOptions<T>,
): Promise<RecoveryReport> {
  const report: RecoveryReport = { handled: 0, dead: 0 };
  const names: string[] = [];
  for await (const item of Deno.readDir(options.quarantineDir)) {
    if (!isHiddenName(item.name)) names.push(item.name);
  }
  names.sort();
  for (const qname of names) {
    const path = join(options.quarantineDir, qname);
    const inbox = IN_RE.exec(qname);
    const claimed = CLAIMED_RE.exec(qname);
    let outcome: ProcessOutcome;
    if (inbox !== null) {
      const ctx: Context<T> = {
        options,
        name: inbox[2]!,
        origin: { kind: "inbox", sender: inbox[1]! },
        recovered: true,
      };
      outcome = await runQuarantined(ctx, path);
    } else if (claimed !== null) {
      outcome = await runQuarantined(
        { options, name: claimed[1]!, origin: { kind: "retry" } },
        path,
      );
    } else {
      const name = ENTRY_NAME_RE.test(qname) ? qname : qname.slice(0, 200);
      const err = new SaoeError(
        "unsafe_path",
        `Cannot recover quarantined entry ${
          JSON.stringify(name)
        }: expected in.<sender>.<uuid>.satl or claimed.<uuid>.satl`,
        { file: name },
      );
      const info = await Deno.lstat(path);
      const kept = info.isFile && !info.isSymlink && info.nlink === 1;
      outcome = await refuse({ options, name, origin: { kind: "retry" } }, path, err, {
        claimed: false,
        kept,
      });
    }
    if (outcome === "handled") report.handled++;
    else if (outcome === "dead") report.dead++;
  }
  return report;
}
