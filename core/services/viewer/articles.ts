/**
 * Published articles as the viewer reads them from `output/`: the list of
 * sessions with a page, one page checked against the published format
 * (`article_check.ts`), and one image. Every name is matched against a strict
 * pattern before it becomes a path, and every file is read with
 * `readRegularFileInfo` (regular, one link, re-checked after open and after the
 * read) inside folders checked to be real: deployment is the only writer of
 * `output/`, but a symlink or hard link planted there would otherwise let the
 * viewer serve any file it can read (`audit/` included).
 *
 * These readers do not consult the ledger: the handler serves through
 * `output_guard.ts`, which serves a file only when its bytes hash to what the
 * session's `published` event names.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { UUID_RE } from "../../primitives/ids/patterns.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { PAGE_NAME } from "../deployment/published_files.ts";
import { assertRealFolder, type ReadFile, readRegularFileInfo } from "../deployment/safe_file.ts";
import { ARTICLE_IMAGE_RE, type ArticleCheck, checkArticleHtml } from "./article_check.ts";

/** Largest page the viewer serves, in bytes. */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;
/** Largest image the viewer serves, in bytes. */
export const MAX_IMAGE_BYTES = 32 * 1024 * 1024;

/** One session folder with a page. */
export interface ArticleEntry {
  session: string;
  /** Modification time of `index.html` in epoch ms (0 when unknown). */
  mtimeMs: number;
}

/** A page read from disk and checked. */
export interface ArticlePage {
  session: string;
  html: string;
  check: ArticleCheck;
}

/** An image read from disk. */
export interface ArticleImage {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: "image/jpeg" | "image/png";
}

/**
 * Session folders of `output/` that hold an `index.html`, newest first.
 *
 * @example
 * ```ts
 * import { listArticles } from "./articles.ts";
 * import { homeLayout } from "../../domain/home/layout.ts";
 * const home = homeLayout(await Deno.makeTempDir());
 * await Deno.mkdir(`${home.output}/0f8fad5b-d9cb-469f-a165-70867728950e`, { recursive: true });
 * await Deno.writeTextFile(`${home.output}/0f8fad5b-d9cb-469f-a165-70867728950e/index.html`, "x");
 * await Deno.mkdir(`${home.output}/not-a-session`);
 * if ((await listArticles(home)).length !== 1) throw new Error();
 * await Deno.remove(home.root, { recursive: true });
 * ```
 */
export async function listArticles(home: HomeLayout): Promise<ArticleEntry[]> {
  try {
    await assertRealFolder(home.output);
  } catch (err: unknown) {
    if (err instanceof SaoeError && err.code === "io_error") return [];
    throw err;
  }
  const found: ArticleEntry[] = [];
  for await (const entry of Deno.readDir(home.output)) {
    // readDir reports a symlink as isSymlink, never as a folder
    if (!entry.isDirectory || !UUID_RE.test(entry.name)) continue;
    const info = await Deno.lstat(join(home.output, entry.name, PAGE_NAME)).catch(() => null);
    if (info === null || !info.isFile) continue;
    found.push({ session: entry.name, mtimeMs: info.mtime?.getTime() ?? 0 });
  }
  return found.sort((a, b) =>
    b.mtimeMs - a.mtimeMs || (a.session < b.session ? -1 : a.session > b.session ? 1 : 0)
  );
}

/** The refusal of a file the viewer does not serve: a plain 404, whatever the reason. */
export function notFound(what: string): SaoeError {
  return new SaoeError("not_found", `No ${what}`);
}

/**
 * `output/<session>/`, checked to be a real folder; `bad_identifier` for a
 * malformed id, `not_found` when missing.
 */
export async function sessionFolder(home: HomeLayout, session: string): Promise<string> {
  if (!UUID_RE.test(session)) throw new SaoeError("bad_identifier", "Invalid session id");
  const folder = join(home.output, session);
  try {
    await assertRealFolder(home.output);
    await assertRealFolder(folder);
  } catch (err: unknown) {
    if (err instanceof SaoeError && err.code === "io_error") throw notFound("such article");
    throw err;
  }
  return folder;
}

/** `output/<session>/img/`, checked like {@linkcode sessionFolder}. */
export async function imageFolder(home: HomeLayout, session: string): Promise<string> {
  const imgDir = join(await sessionFolder(home, session), "img");
  try {
    await assertRealFolder(imgDir);
  } catch (err: unknown) {
    if (err instanceof SaoeError && err.code === "io_error") throw notFound("such image");
    throw err;
  }
  return imgDir;
}

/**
 * Reads one file of `output/` with `readRegularFileInfo`; a missing file is
 * `not_found`, a link or special file `unsafe_path`, a bigger one `size_exceeded`.
 */
export async function readOutputFile(
  path: string,
  maxBytes: number,
  what: string,
): Promise<ReadFile> {
  try {
    return await readRegularFileInfo(path, maxBytes);
  } catch (err: unknown) {
    if (err instanceof SaoeError && err.code === "io_error") throw notFound(what);
    throw err;
  }
}

/**
 * Decodes and checks the bytes of `output/<session>/index.html`: `parse_error`
 * when not UTF-8; a page that fails the format check is returned with
 * `check.ok` false (the caller refuses to serve it).
 */
export function decodePage(session: string, bytes: Uint8Array): ArticlePage {
  let html: string;
  try {
    html = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new SaoeError("parse_error", `The page of session ${session} is not UTF-8`);
  }
  return { session, html, check: checkArticleHtml(html, session) };
}

const MAGIC = {
  png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  jpg: [0xff, 0xd8, 0xff],
} as const;

/**
 * The bytes of `output/<session>/img/<file>` as served: they must start with the
 * signature of the type the name claims (served with `nosniff`, a mislabelled
 * file is refused, `unsupported_media`, rather than sent under the wrong type).
 */
export function imageOf(file: string, bytes: Uint8Array<ArrayBuffer>): ArticleImage {
  if (!ARTICLE_IMAGE_RE.test(file)) throw new SaoeError("bad_identifier", "Invalid image name");
  const kind = file.endsWith(".png") ? "png" : "jpg";
  if (!MAGIC[kind].every((b, i) => bytes[i] === b)) {
    throw new SaoeError("unsupported_media", `Image ${file} is not the type its name says`);
  }
  return { bytes, contentType: kind === "png" ? "image/png" : "image/jpeg" };
}
