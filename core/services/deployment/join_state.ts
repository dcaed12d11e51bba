/**
 * Deployment's join of one session's parts: the formatted article and each
 * sanitised image, keyed by index, until the article and as many images as it
 * announced are there. The decisions are pure functions ({@linkcode addArticle},
 * {@linkcode addImage}, {@linkcode isComplete}); {@linkcode JoinStore} keeps one
 * strict JSON file per session in deployment's private `store/`, written
 * atomically, so a restart resumes every half-joined session.
 *
 * It trusts only what deployment itself wrote: parts come from envelopes the
 * validator accepted, and the file is parsed strictly on every load.
 *
 * Rules that stop a wrong page being published:
 * - an image session never publishes text-only: publishing needs every index
 *   below the article's `image_count`;
 * - a part that conflicts with one already joined (another article, another
 *   image at the same index, an index the article does not announce) is refused;
 *   the same part delivered again is accepted without change;
 * - once the session is published, every further part is refused (`replay`):
 *   the page is never rewritten.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { utf8 } from "../../primitives/crypto/bytes.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import {
  arr,
  type Decoded,
  int,
  literal,
  obj,
  oneOf,
  optional,
  str,
} from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import {
  assertIdentifier,
  sessionId,
  sha256HexId,
  uuid,
  UUID_RE,
} from "../../primitives/ids/patterns.ts";
import { timestamp } from "../../primitives/time/timestamp.ts";
import { IMAGE_FILE_RE, MAX_ARTICLE_HTML, MAX_IMAGES } from "./payloads.ts";

/** Largest session state file read back, in bytes. */
export const MAX_STATE_BYTES = 8 * 1024 * 1024;

const articlePart = obj({
  envelope_id: uuid,
  title: str({ maxLength: 200 }),
  html: str({ maxLength: MAX_ARTICLE_HTML }),
  image_count: int(0, MAX_IMAGES),
});

const imagePart = obj({
  envelope_id: uuid,
  index: int(0, MAX_IMAGES - 1),
  file: str({ pattern: IMAGE_FILE_RE, maxLength: 68 }),
  sha256: sha256HexId,
  media_type: oneOf(["image/jpeg", "image/png"] as const),
  width: int(1, 8192),
  height: int(1, 8192),
});

const publishedMark = obj({
  at: timestamp,
  /** Home-relative path of the page, e.g. `output/<session>/index.html`. */
  path: str({ maxLength: 256 }),
  images: arr(str({ pattern: IMAGE_FILE_RE, maxLength: 68 }), MAX_IMAGES),
});

const sessionParts = obj({
  format: literal(1),
  session_id: sessionId,
  article: optional(articlePart),
  images: arr(imagePart, MAX_IMAGES),
  published: optional(publishedMark),
});

/** The article part of a session. */
export type ArticlePart = Decoded<typeof articlePart>;
/** One image part of a session. */
export type ImagePart = Decoded<typeof imagePart>;
/** The record that a session was published. */
export type PublishedMark = Decoded<typeof publishedMark>;
/** Everything deployment has joined for one session. */
export type SessionParts = Decoded<typeof sessionParts>;

/** The state of a session nothing has arrived for. */
export function emptyParts(session: string): SessionParts {
  return { format: 1, session_id: assertIdentifier(session, UUID_RE, "session id"), images: [] };
}

function refusePublished(state: SessionParts, what: string): void {
  if (state.published !== undefined) {
    throw new SaoeError(
      "replay",
      `Cannot join ${what} to session ${state.session_id}: it was already published at ${state.published.at}; the page is never rewritten`,
      { session_id: state.session_id },
    );
  }
}

function checkAnnounced(state: SessionParts, article: ArticlePart, image: ImagePart): void {
  if (image.index >= article.image_count) {
    throw new SaoeError(
      "schema",
      `Cannot join image ${image.index} to session ${state.session_id}: the article announces ${article.image_count} image(s)`,
      { session_id: state.session_id, envelope_id: image.envelope_id },
    );
  }
}

/**
 * Joins the article part; returns the new state, or the same state object when
 * the same article was already joined.
 *
 * @example
 * ```ts
 * import { addArticle, emptyParts, isComplete } from "./join_state.ts";
 * const s = addArticle(emptyParts(crypto.randomUUID()), {
 *   envelope_id: crypto.randomUUID(), title: "T", html: "<p>x</p>", image_count: 0,
 * });
 * if (!isComplete(s)) throw new Error();
 * ```
 */
export function addArticle(state: SessionParts, part: ArticlePart): SessionParts {
  refusePublished(state, `article ${part.envelope_id}`);
  const have = state.article;
  if (have !== undefined) {
    if (
      have.title === part.title && have.html === part.html && have.image_count === part.image_count
    ) {
      return state;
    }
    throw new SaoeError(
      "replay",
      `Cannot join article ${part.envelope_id} to session ${state.session_id}: a different article (envelope ${have.envelope_id}) is already joined`,
      { session_id: state.session_id, envelope_id: part.envelope_id },
    );
  }
  for (const image of state.images) checkAnnounced(state, part, image);
  return { ...state, article: { ...part } };
}

/**
 * Joins one image part; returns the new state, or the same state object when
 * the same image was already joined at that index.
 *
 * @example
 * ```ts
 * import { addArticle, addImage, emptyParts, isComplete } from "./join_state.ts";
 * let s = addArticle(emptyParts(crypto.randomUUID()), {
 *   envelope_id: crypto.randomUUID(), title: "T", html: "", image_count: 1,
 * });
 * if (isComplete(s)) throw new Error("an image session must wait for its image");
 * const sha = "ab".repeat(32);
 * s = addImage(s, {
 *   envelope_id: crypto.randomUUID(), index: 0, file: `${sha}.png`, sha256: sha,
 *   media_type: "image/png", width: 10, height: 10,
 * });
 * if (!isComplete(s)) throw new Error();
 * ```
 */
export function addImage(state: SessionParts, part: ImagePart): SessionParts {
  refusePublished(state, `image ${part.envelope_id}`);
  if (state.article !== undefined) checkAnnounced(state, state.article, part);
  const have = state.images.find((i) => i.index === part.index);
  if (have !== undefined) {
    if (
      have.file === part.file && have.sha256 === part.sha256 &&
      have.media_type === part.media_type && have.width === part.width &&
      have.height === part.height
    ) {
      return state;
    }
    throw new SaoeError(
      "replay",
      `Cannot join image ${part.envelope_id} to session ${state.session_id}: a different image (envelope ${have.envelope_id}) is already joined at index ${part.index}`,
      { session_id: state.session_id, envelope_id: part.envelope_id },
    );
  }
  const images = [...state.images, { ...part }].sort((a, b) => a.index - b.index);
  return { ...state, images };
}

/** True when the article and every image it announced are joined (and not yet published). */
export function isComplete(state: SessionParts): boolean {
  const article = state.article;
  if (article === undefined || state.published !== undefined) return false;
  if (state.images.length !== article.image_count) return false;
  return state.images.every((image, i) => image.index === i);
}

/** Decodes a session state read from disk. */
export function decodeSessionParts(bytes: Uint8Array): SessionParts {
  return sessionParts(parseStrictJson(bytes, { maxBytes: MAX_STATE_BYTES }), "$");
}

/**
 * One JSON file per session under a folder of deployment's `store/`.
 *
 * @example
 * ```ts
 * import { emptyParts, JoinStore } from "./join_state.ts";
 * const dir = await Deno.makeTempDir();
 * const store = new JoinStore(dir);
 * const session = crypto.randomUUID();
 * await store.save(emptyParts(session));
 * if ((await store.load(session)).session_id !== session) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class JoinStore {
  readonly #dir: string;

  /** A store in `dir` (created on first save). */
  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(session: string): string {
    return join(this.#dir, `${assertIdentifier(session, UUID_RE, "session id")}.json`);
  }

  /** The session's state, or an empty state when nothing was joined yet. */
  async load(session: string): Promise<SessionParts> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.#path(session));
    } catch (err: unknown) {
      if (err instanceof Deno.errors.NotFound) return emptyParts(session);
      throw err;
    }
    const state = decodeSessionParts(bytes);
    if (state.session_id !== session) {
      throw new SaoeError(
        "parse_error",
        `Invalid join state for session ${session}: the file names session ${state.session_id}`,
        { session_id: session },
      );
    }
    return state;
  }

  /** Writes the session's state atomically. */
  async save(state: SessionParts): Promise<void> {
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.#path(state.session_id), utf8(JSON.stringify(state)));
  }
}
