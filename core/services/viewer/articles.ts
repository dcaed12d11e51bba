/**
 * Published articles as the viewer reads them from `output/`: the list of
 * sessions with a page, one page checked against the published format
 * (`article_check.ts`), and one image. Every name is matched against a strict
 * pattern before it becomes a path, and every file is read with
 * `readRegularFile` (regular, one link, re-checked after open) inside folders
 * checked to be real: deployment is the only writer of `output/`, but a symlink
 * or hard link planted there would otherwise let the viewer serve any file it
 * can read (`audit/` included).
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { UUID_RE } from "../../primitives/ids/patterns.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { assertRealFolder, readRegularFile } from "../deployment/safe_file.ts";
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
    const info = await Deno.lstat(join(home.output, entry.name, "index.html")).catch(() => null);
    if (info === null || !info.isFile) continue;
    found.push({ session: entry.name, mtimeMs: info.mtime?.getTime() ?? 0 });
  }
  return found.sort((a, b) =>
    b.mtimeMs - a.mtimeMs || (a.session < b.session ? -1 : a.session > b.session ? 1 : 0)
  );
}

function notFound(what: string): SaoeError {
  return new SaoeError("not_found", `No ${what}`);
}

async function sessionFolder(home: HomeLayout, session: string): Promise<string> {
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

async function readOrNotFound(path: string, maxBytes: number, what: string) {
  try {
    return await readRegularFile(path, maxBytes);
  } catch (err: unknown) {
    if (err instanceof SaoeError && err.code === "io_error") throw notFound(what);
    throw err;
  }
}

/**
 * Reads and checks `output/<session>/index.html`. Throws `not_found`,
 * `bad_identifier`, `unsafe_path`, `size_exceeded` or `parse_error` (not UTF-8);
 * a page that reads but fails the format check is returned with `check.ok`
 * false (the caller refuses to serve it).
 */
export async function readArticle(home: HomeLayout, session: string): Promise<ArticlePage> {
  const folder = await sessionFolder(home, session);
  const bytes = await readOrNotFound(join(folder, "index.html"), MAX_PAGE_BYTES, "such article");
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
 * Reads `output/<session>/img/<file>`; the bytes must start with the signature
 * of the type the name claims (served with `nosniff`, a mislabelled file is
 * refused rather than sent under the wrong type).
 */
export async function readArticleImage(
  home: HomeLayout,
  session: string,
  file: string,
): Promise<ArticleImage> {
  if (!ARTICLE_IMAGE_RE.test(file)) throw new SaoeError("bad_identifier", "Invalid image name");
  const folder = await sessionFolder(home, session);
  const imgDir = join(folder, "img");
  try {
    await assertRealFolder(imgDir);
  } catch (err: unknown) {
    if (err instanceof SaoeError && err.code === "io_error") throw notFound("such image");
    throw err;
  }
  const bytes = await readOrNotFound(join(imgDir, file), MAX_IMAGE_BYTES, "such image");
  const kind = file.endsWith(".png") ? "png" : "jpg";
  if (!MAGIC[kind].every((b, i) => bytes[i] === b)) {
    throw new SaoeError("unsupported_media", `Image ${file} is not the type its name says`);
  }
  return { bytes, contentType: kind === "png" ? "image/png" : "image/jpeg" };
}
