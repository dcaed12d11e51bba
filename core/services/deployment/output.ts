/**
 * Publishing one joined session: each image is read from `media/<session>/`,
 * checked against the SHA-256 of its signed `sanitized_image` envelope and
 * copied to `output/<session>/img/`; the body is re-sanitised; the page is
 * written atomically to `output/<session>/index.html` and never over an existing
 * page.
 *
 * {@linkcode joinPart} is deployment's whole decision for one part: join it,
 * save the join state, publish when complete and record the publication, in an
 * order that keeps the page written once and `published` reported once across a
 * crash at any point (the page is written with a no-overwrite link, and the
 * mark is saved before the caller reports the event; a page found without a
 * mark is a publication the crash interrupted, completed by marking it once the
 * page on disk is found to be exactly the page deployment renders).
 *
 * Every {@linkcode Publication} names the SHA-256 of each file written
 * (`files`), which the `published` event carries: the viewer and
 * `saoe audit verify --outputs` serve or accept nothing under `output/` that a
 * `published` event does not vouch for (docs/design.md section 7).
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex, utf8 } from "../../primitives/crypto/bytes.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { type HomeLayout, sessionDir, SHARED_FILE_MODE } from "../../domain/home/layout.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp } from "../../primitives/time/timestamp.ts";
import type { HtmlSanitizer } from "./html_sanitizer.ts";
import {
  addArticle,
  addImage,
  type ArticlePart,
  type ImagePart,
  isComplete,
  type JoinStore,
  type PublishedMark,
  type SessionParts,
} from "./join_state.ts";
import { readMedia } from "./media.ts";
import { renderArticlePage } from "./page.ts";
import { PAGE_NAME, type PublishedFiles } from "./published_files.ts";
import { assertRealFolder, ensureRealFolder, pathExists, readRegularFile } from "./safe_file.ts";

export { PAGE_NAME };

/** Largest page deployment reads back to confirm an interrupted publication. */
const MAX_PAGE_READ_BYTES = 8 * 1024 * 1024;

/** Options for {@linkcode publishSession}. */
export interface PublishOptions {
  home: HomeLayout;
  /** A complete session (see `isComplete`). */
  parts: SessionParts;
  sanitize: HtmlSanitizer;
}

/** What was published. */
export interface Publication {
  /** Home-relative path of the page. */
  path: string;
  /** Image files copied to `output/<session>/img/`, in index order. */
  images: string[];
  /**
   * The SHA-256 of the exact bytes of every file written, by its path inside
   * `output/<session>/`: `index.html`, then `img/<file>` in index order.
   */
  files: PublishedFiles;
}

/** Home-relative path of a session's page. */
export function pagePath(session: string): string {
  return `output/${session}/${PAGE_NAME}`;
}

function completeArticle(parts: SessionParts): ArticlePart {
  const article = parts.article;
  if (article === undefined || !isComplete(parts)) {
    throw new SaoeError(
      "handler_error",
      `Cannot publish session ${parts.session_id}: the article or an announced image is missing`,
      { session_id: parts.session_id },
    );
  }
  return article;
}

/** The exact bytes of a complete session's page. */
function pageBytes(parts: SessionParts, article: ArticlePart, sanitize: HtmlSanitizer) {
  return utf8(renderArticlePage({
    session: parts.session_id,
    title: article.title,
    bodyHtml: sanitize(article.html),
    images: parts.images,
  }));
}

async function publication(
  parts: SessionParts,
  page: Uint8Array<ArrayBuffer>,
): Promise<Publication> {
  const files: PublishedFiles = { [PAGE_NAME]: await sha256Hex(page) };
  // each image's bytes were checked against this digest before they were written
  for (const image of parts.images) files[`img/${image.file}`] = image.sha256;
  return { path: pagePath(parts.session_id), images: parts.images.map((i) => i.file), files };
}

/**
 * Publishes a complete session. Refuses (`rollback`) when the page already
 * exists: a published page is never rewritten.
 */
export async function publishSession(options: PublishOptions): Promise<Publication> {
  const { home, parts } = options;
  const article = completeArticle(parts);
  const session = parts.session_id;
  const folder = sessionDir(home, "output", session);
  await assertRealFolder(home.output);
  await ensureRealFolder(folder);
  if (parts.images.length > 0) {
    const imgFolder = join(folder, "img");
    await ensureRealFolder(imgFolder);
    for (const image of parts.images) {
      // the bytes in media/ must be the bytes image_filter signed for
      const bytes = await readMedia({
        home,
        session,
        file: image.file,
        sha256: image.sha256,
        mediaType: image.media_type,
      });
      await writeFileAtomic(join(imgFolder, image.file), bytes, { mode: SHARED_FILE_MODE });
    }
  }
  const page = pageBytes(parts, article, options.sanitize);
  // a hard-link publish: two writers (or a re-run) can never both write the page
  await writeFileAtomic(join(folder, PAGE_NAME), page, {
    overwrite: false,
    mode: SHARED_FILE_MODE,
  });
  return await publication(parts, page);
}

/**
 * The publication of a complete session whose page a crash left written but
 * unmarked: the page stands as written, and is vouched for only when its bytes
 * are exactly the page deployment renders for the session (`output_mismatch`
 * otherwise: a page replaced meanwhile is never reported as published).
 */
async function confirmPublication(options: PublishOptions): Promise<Publication> {
  const { home, parts } = options;
  const article = completeArticle(parts);
  const path = join(sessionDir(home, "output", parts.session_id), PAGE_NAME);
  const expected = pageBytes(parts, article, options.sanitize);
  const found = await readRegularFile(path, MAX_PAGE_READ_BYTES);
  if (
    found.byteLength !== expected.byteLength || !found.every((b, i) => b === expected[i])
  ) {
    throw new SaoeError(
      "output_mismatch",
      `Cannot complete the publication of session ${parts.session_id}: ${path} is not the page deployment renders for it`,
      { session_id: parts.session_id, file: path },
    );
  }
  return await publication(parts, expected);
}

/** True when `part` is, envelope and content, one the session joined already. */
function joinedAlready(state: SessionParts, part: Part): boolean {
  if (part.kind === "article") {
    const a = state.article;
    return a !== undefined && a.envelope_id === part.part.envelope_id &&
      a.title === part.part.title && a.html === part.part.html &&
      a.image_count === part.part.image_count;
  }
  const p = part.part;
  return state.images.some((i) =>
    i.envelope_id === p.envelope_id && i.index === p.index && i.file === p.file &&
    i.sha256 === p.sha256 && i.media_type === p.media_type && i.width === p.width &&
    i.height === p.height
  );
}

/** One part for {@linkcode joinPart}. */
export type Part = { kind: "article"; part: ArticlePart } | { kind: "image"; part: ImagePart };

/** Options for {@linkcode joinPart}. */
export interface JoinPartOptions {
  home: HomeLayout;
  store: JoinStore;
  session: string;
  part: Part;
  /** Loads the sanitiser when a page is about to be written. */
  sanitizer: () => Promise<HtmlSanitizer>;
  clock: Clock;
}

/** What {@linkcode joinPart} did. */
export type JoinOutcome =
  | { status: "waiting"; article: boolean; images: number; expected: number | null }
  | { status: "published"; publication: Publication };

function mark(state: SessionParts, done: Publication, clock: Clock): SessionParts {
  const published: PublishedMark = {
    at: formatTimestamp(clock.now()),
    path: done.path,
    images: done.images,
  };
  return { ...state, published };
}

/**
 * Joins one part of a session and publishes the session when it is complete.
 * The caller reports `published` exactly when the outcome says so. A part the
 * published session joined already (its envelope resumed after a crash) gives
 * the publication again, so a report the crash cut off is made; any other part
 * for a published session is refused (`replay`), and so is a conflicting part.
 */
export async function joinPart(options: JoinPartOptions): Promise<JoinOutcome> {
  const { store, session, part } = options;
  const before = await store.load(session);
  if (before.published !== undefined && joinedAlready(before, part)) {
    // a part already joined into a published session: its envelope resumed after a crash
    // that came between the mark and the report. Report the publication again, as the
    // page on disk stands (the supervisor keeps one `published` per session).
    const { published: _mark, ...joined } = before;
    const done = await confirmPublication({
      home: options.home,
      parts: joined,
      sanitize: await options.sanitizer(),
    });
    return { status: "published", publication: done };
  }
  const state = part.kind === "article"
    ? addArticle(before, part.part)
    : addImage(before, part.part);
  if (state !== before) await store.save(state);
  if (!isComplete(state)) {
    return {
      status: "waiting",
      article: state.article !== undefined,
      images: state.images.length,
      expected: state.article?.image_count ?? null,
    };
  }
  const page = join(sessionDir(options.home, "output", session), PAGE_NAME);
  const publish = {
    home: options.home,
    parts: state,
    sanitize: await options.sanitizer(),
  };
  // a page without a mark: a crash after the page was written and before the mark
  const done = await pathExists(page)
    ? await confirmPublication(publish)
    : await publishSession(publish);
  await store.save(mark(state, done, options.clock));
  return { status: "published", publication: done };
}
