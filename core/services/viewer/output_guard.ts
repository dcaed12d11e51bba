/**
 * The viewer's binding of `output/` to the ledger: an article page or an image
 * is served only when its bytes hash to the SHA-256 that the session's
 * `published` event names for it (`detail.files`, indexed from the ledger by
 * `sessions.ts`), and the article list shows only sessions with such an event
 * whose page verifies. Anything else under `output/` (a session folder no
 * `published` event names, a replaced page, a replaced or extra image, a link)
 * is refused with a plain 404 (a link or special file: the 403 of the other
 * file checks), never with its bytes, and reported once per file state through
 * `report` (the viewer's signed `rejected` event with reason `output_mismatch`).
 *
 * Cost: a file is hashed once per state, keyed by its path, device, inode,
 * size, modification and change time, and the key is taken from the opened
 * file's `fstat`, unchanged before and after the read; the ledger index is in
 * memory. Before it refuses a file of a session that has no `published` event
 * in the index, the guard reads the ledger once more (`catchUp`): the event may
 * have been appended a moment ago.
 *
 * A session being published writes its images and page before deployment
 * reports `published`, so a file of an unpublished session is reported only
 * once it is older than `graceMs` (then re-checked against the ledger), never
 * while deployment may still be about to vouch for it; it is refused (404)
 * meanwhile all the same.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import { lstatOrNull } from "../../primitives/fs/lstat_or_null.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { systemTimers, type TimerHandle, type Timers } from "../../primitives/time/timers.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import type { EventFields } from "../../domain/ledger/events.ts";
import {
  fileStateKey,
  OUTPUT_PROBLEMS,
  type OutputFinding,
  PAGE_NAME,
} from "../deployment/published_files.ts";
import type { ReadFile } from "../deployment/safe_file.ts";
import { ARTICLE_IMAGE_RE } from "./article_check.ts";
import {
  type ArticleEntry,
  type ArticleImage,
  type ArticlePage,
  decodePage,
  imageFolder,
  imageOf,
  listArticles,
  MAX_IMAGE_BYTES,
  MAX_PAGE_BYTES,
  notFound,
  readOutputFile,
  sessionFolder,
} from "./articles.ts";

/** Default age a file of an unpublished session must reach before it is reported: 5 s. */
export const DEFAULT_REPORT_GRACE_MS = 5_000;
/** Digests kept (oldest dropped first). */
const MAX_DIGESTS = 4_096;
/** File states remembered as reported (the set is cleared when full). */
const MAX_REPORTED = 16_384;
/** Checks of unpublished files waiting for their grace period at once. */
const MAX_PENDING = 1_024;

/** Options for {@linkcode OutputGuard}. */
export interface OutputGuardOptions {
  home: HomeLayout;
  /** What the session's `published` event vouches for, as indexed now. */
  vouched(session: string): ReadonlyMap<string, string> | undefined;
  /** Indexes every record committed so far. */
  catchUp(): Promise<void>;
  /** Reports one refused file; called once per file state. */
  report(finding: OutputFinding): Promise<void>;
  clock: Clock;
  /** Timers of the grace period; default the runtime's. */
  timers?: Timers;
  /** Default {@linkcode DEFAULT_REPORT_GRACE_MS}. */
  graceMs?: number;
  log(line: string): void;
}

/**
 * The audit event of a refused output file: `rejected`, reason
 * `output_mismatch`, the file, the problem and the digests.
 *
 * @example
 * ```ts
 * import { outputFindingEvent } from "./output_guard.ts";
 * const session = "0f8fad5b-d9cb-469f-a165-70867728950e";
 * const e = outputFindingEvent({ session, file: `output/${session}/index.html`, problem: "unpublished" });
 * if (e.reason !== "output_mismatch" || e.session_id !== session) throw new Error();
 * ```
 */
export function outputFindingEvent(finding: OutputFinding): Omit<EventFields, "agent"> {
  return {
    type: "rejected",
    ...(finding.session !== undefined ? { session_id: finding.session } : {}),
    reason: "output_mismatch",
    detail: {
      message: `Refused ${finding.file}: ${OUTPUT_PROBLEMS[finding.problem]}`,
      file: finding.file,
      problem: finding.problem,
      ...(finding.sha256 !== undefined ? { sha256: finding.sha256 } : {}),
      ...(finding.expected !== undefined ? { expected: finding.expected } : {}),
    },
  };
}

/** Serves `output/` only as the ledger vouches for it. */
export class OutputGuard {
  readonly #o: OutputGuardOptions;
  readonly #timers: Timers;
  readonly #graceMs: number;
  readonly #digests = new Map<string, string>();
  /** File states reported, or waiting for their grace period to be. */
  readonly #reported = new Set<string>();
  readonly #pending = new Set<TimerHandle>();
  #closed = false;

  /** A guard over `options.home`'s `output/`. */
  constructor(options: OutputGuardOptions) {
    this.#o = options;
    this.#timers = options.timers ?? systemTimers;
    this.#graceMs = options.graceMs ?? DEFAULT_REPORT_GRACE_MS;
  }

  /**
   * Sessions whose page hashes to their `published` event, newest first; the
   * page of any other session folder is refused and reported.
   */
  async list(): Promise<ArticleEntry[]> {
    const out: ArticleEntry[] = [];
    let caughtUp = false;
    for (const entry of await listArticles(this.#o.home)) {
      const { session } = entry;
      let files = this.#o.vouched(session);
      if (files === undefined && !caughtUp) {
        await this.#o.catchUp();
        caughtUp = true;
        files = this.#o.vouched(session);
      }
      const path = join(this.#o.home.output, session, PAGE_NAME);
      const expected = files?.get(PAGE_NAME);
      if (expected === undefined) {
        await this.#unvouched(session, PAGE_NAME, path);
        continue;
      }
      if (await this.#matches(session, PAGE_NAME, path, expected)) out.push(entry);
    }
    return out;
  }

  /**
   * The page of `session`, checked against the published format, when its bytes
   * hash to its `published` event; else `not_found` (and a report).
   */
  async page(session: string): Promise<ArticlePage> {
    const path = join(await sessionFolder(this.#o.home, session), PAGE_NAME);
    const expected = (await this.#vouched(session))?.get(PAGE_NAME);
    if (expected === undefined) {
      await this.#unvouched(session, PAGE_NAME, path);
      throw notFound("such article");
    }
    const read = await this.#read(session, PAGE_NAME, path, MAX_PAGE_BYTES, "such article");
    await this.#verify(session, PAGE_NAME, path, read, expected);
    return decodePage(session, read.bytes);
  }

  /**
   * One image of `session`, when its `published` event names it and its bytes
   * hash to that; else `not_found` (and a report).
   */
  async image(session: string, file: string): Promise<ArticleImage> {
    if (!ARTICLE_IMAGE_RE.test(file)) throw new SaoeError("bad_identifier", "Invalid image name");
    const path = join(await imageFolder(this.#o.home, session), file);
    const name = `img/${file}`;
    const files = await this.#vouched(session);
    if (files === undefined) {
      await this.#unvouched(session, name, path);
      throw notFound("such image");
    }
    const expected = files.get(name);
    if (expected === undefined) {
      const info = await lstatOrNull(path);
      if (info !== null) await this.#refuse(session, name, path, info, "unlisted");
      throw notFound("such image");
    }
    const read = await this.#read(session, name, path, MAX_IMAGE_BYTES, "such image");
    await this.#verify(session, name, path, read, expected);
    return imageOf(file, read.bytes);
  }

  /** Cancels the checks waiting for their grace period. */
  close(): void {
    this.#closed = true;
    for (const handle of this.#pending) this.#timers.clearTimeout(handle);
    this.#pending.clear();
  }

  async #vouched(session: string): Promise<ReadonlyMap<string, string> | undefined> {
    const files = this.#o.vouched(session);
    if (files !== undefined) return files;
    await this.#o.catchUp();
    return this.#o.vouched(session);
  }

  /** Reads a vouched-for file; a link or special file is reported, then refused as before. */
  async #read(
    session: string,
    name: string,
    path: string,
    maxBytes: number,
    what: string,
  ): Promise<ReadFile> {
    try {
      return await readOutputFile(path, maxBytes, what);
    } catch (err: unknown) {
      if (
        err instanceof SaoeError && (err.code === "unsafe_path" || err.code === "size_exceeded")
      ) {
        const info = await lstatOrNull(path);
        if (info !== null) await this.#refuse(session, name, path, info, "unsafe");
      }
      throw err;
    }
  }

  async #digest(path: string, read: ReadFile): Promise<string> {
    const key = `${path}\n${fileStateKey(read.info)}`;
    const known = this.#digests.get(key);
    if (known !== undefined) return known;
    const digest = await sha256Hex(read.bytes);
    if (this.#digests.size >= MAX_DIGESTS) {
      this.#digests.delete(this.#digests.keys().next().value!);
    }
    this.#digests.set(key, digest);
    return digest;
  }

  async #verify(
    session: string,
    name: string,
    path: string,
    read: ReadFile,
    expected: string,
  ): Promise<void> {
    const digest = await this.#digest(path, read);
    if (digest === expected) return;
    await this.#refuse(session, name, path, read.info, "mismatch", { sha256: digest, expected });
    throw notFound(name === PAGE_NAME ? "such article" : "such image");
  }

  /** True when the file hashes to `expected` (hashed only when its state is new). */
  async #matches(session: string, name: string, path: string, expected: string) {
    const info = await lstatOrNull(path);
    if (info === null) return false;
    const known = this.#digests.get(`${path}\n${fileStateKey(info)}`);
    if (known !== undefined) {
      if (known === expected) return true;
      await this.#refuse(session, name, path, info, "mismatch", { sha256: known, expected });
      return false;
    }
    try {
      const read = await this.#read(session, name, path, MAX_PAGE_BYTES, "such article");
      await this.#verify(session, name, path, read, expected);
      return true;
    } catch (err: unknown) {
      if (err instanceof SaoeError) return false;
      throw err;
    }
  }

  /** Reports a file once per state (and problem). */
  async #refuse(
    session: string,
    name: string,
    path: string,
    info: Deno.FileInfo,
    problem: OutputFinding["problem"],
    digests: { sha256?: string; expected?: string } = {},
  ): Promise<void> {
    const key = `${problem}\n${path}\n${fileStateKey(info)}`;
    if (this.#reported.has(key)) return;
    this.#remember(key);
    const finding: OutputFinding = {
      session,
      file: `output/${session}/${name}`,
      problem,
      ...digests,
    };
    if (problem !== "mismatch" && problem !== "unsafe") {
      const sha256 = await this.#digestOf(path, info);
      if (sha256 !== undefined) finding.sha256 = sha256;
    }
    this.#o.log(`viewer: refusing ${finding.file}: ${OUTPUT_PROBLEMS[problem]}`);
    try {
      await this.#o.report(finding);
    } catch (err: unknown) {
      this.#o.log(
        `viewer: cannot report ${finding.file}: ${err instanceof Error ? err.message : err}`,
      );
    }
  }

  #remember(key: string): void {
    if (this.#reported.size >= MAX_REPORTED) this.#reported.clear();
    this.#reported.add(key);
  }

  /** The digest of a file still in the state `info` describes, when it can be read. */
  async #digestOf(path: string, info: Deno.FileInfo): Promise<string | undefined> {
    try {
      const read = await readOutputFile(path, MAX_IMAGE_BYTES, "such file");
      if (fileStateKey(read.info) !== fileStateKey(info)) return undefined;
      return await this.#digest(path, read);
    } catch {
      return undefined;
    }
  }

  /**
   * A file of a session no `published` event vouches for (the index is caught
   * up): reported now when it is older than the grace period, else once it is,
   * if the ledger still does not vouch for its session and it is unchanged.
   */
  async #unvouched(session: string, name: string, path: string): Promise<void> {
    const info = await lstatOrNull(path);
    if (info === null || this.#closed) return;
    const key = `unpublished\n${path}\n${fileStateKey(info)}`;
    if (this.#reported.has(key)) return;
    const changed = Math.max(info.mtime?.getTime() ?? 0, info.ctime?.getTime() ?? 0);
    const wait = Math.min(changed + this.#graceMs - this.#o.clock.now(), this.#graceMs);
    if (wait <= 0) {
      await this.#refuse(session, name, path, info, "unpublished");
      return;
    }
    if (this.#pending.size >= MAX_PENDING) return; // judged again on a later request
    this.#remember(key);
    const handle = this.#timers.setTimeout(() => {
      this.#pending.delete(handle);
      this.#reported.delete(key);
      if (this.#closed) return;
      this.#recheck(session, name, path, info).catch((err: unknown) =>
        this.#o.log(`viewer: cannot check ${path}: ${err instanceof Error ? err.message : err}`)
      );
    }, wait);
    this.#pending.add(handle);
  }

  async #recheck(session: string, name: string, path: string, info: Deno.FileInfo) {
    await this.#o.catchUp();
    if (this.#closed || this.#o.vouched(session) !== undefined) return;
    const now = await lstatOrNull(path);
    if (now === null || fileStateKey(now) !== fileStateKey(info)) return;
    await this.#refuse(session, name, path, info, "unpublished");
  }
}
