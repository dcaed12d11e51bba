/**
 * What the viewer checks before it serves a published page from
 * `output/<session>/index.html`: the page must have exactly the shape
 * deployment renders (`core/services/deployment/page.ts`) — the page skeleton, the article
 * allowlist of the sanitiser, and `<img>` elements whose `src` is
 * `/output/img/<its own session>/<sha256>.<jpg|png>`. Anything else (another
 * element or attribute, an image of another session, a `javascript:` link, a
 * malformed tag) refuses the whole page.
 *
 * Why the viewer checks what deployment already guarantees: every article is
 * served from one origin, so CSP `img-src 'self'` cannot stop a page from
 * loading another session's image; a page written by anything but deployment, or
 * by a future deployment bug, must not be able to do that through the viewer.
 * The handler also narrows `img-src` to the page's own image folder with a
 * second policy, which the browser enforces on the resolved URL (encoded dot
 * segments and the like included).
 *
 * The tokenizer is deliberately strict rather than lenient: anything it does not
 * recognise is a refusal, never text it skips.
 *
 * @module
 */
import { UUID_RE } from "../../primitives/ids/patterns.ts";
import { decodeEntities } from "./html.ts";

/** Image file names a published page may reference (`core/services/deployment/payloads.ts`). */
export const ARTICLE_IMAGE_RE = /^[0-9a-f]{64}\.(jpg|png)$/;

/**
 * Elements of the article body: the allowlist of the `markdown_to_html` tool
 * (a test keeps them equal; a drift refuses pages, it never widens).
 */
export const BODY_TAGS: readonly string[] = (
  "p h1 h2 h3 h4 h5 h6 ul ol li pre code blockquote table thead tbody tr th td em strong a hr br"
).split(" ");

/** Elements of the page skeleton `renderArticlePage` writes. */
export const SKELETON_TAGS: readonly string[] = [
  "html",
  "head",
  "meta",
  "title",
  "body",
  "article",
  "figure",
  "img",
];

const ALLOWED_TAGS = new Set([...BODY_TAGS, ...SKELETON_TAGS]);
const VOID_TAGS = new Set(["meta", "img", "hr", "br"]);
const LINK_RE = /^(?:https?:\/\/|mailto:)/i;
const START_TAG_RE =
  /<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*(\/?)>/y;
const ATTRIBUTE_RE = /\s+([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/y;
const END_TAG_RE = /<\/([a-zA-Z][a-zA-Z0-9]*)\s*>/y;
const DOCTYPE_RE = /<!doctype html>/iy;

/** The outcome of {@linkcode checkArticleHtml}. */
export type ArticleCheck =
  | {
    ok: true;
    /** Image file names the page shows, in order (all in its own session). */
    images: string[];
  }
  | {
    ok: false;
    /** Why the page is refused (fixed text: never page content). */
    problem: string;
  };

function attributes(text: string): Map<string, string> | undefined {
  const found = new Map<string, string>();
  ATTRIBUTE_RE.lastIndex = 0;
  while (ATTRIBUTE_RE.lastIndex < text.length) {
    const m = ATTRIBUTE_RE.exec(text);
    if (m === null) return text.slice(ATTRIBUTE_RE.lastIndex).trim() === "" ? found : undefined;
    const name = m[1]!.toLowerCase();
    // a browser keeps the first of two equal names: a second one hides intent
    if (found.has(name)) return undefined;
    found.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ""));
  }
  return found;
}

function only(attrs: Map<string, string>, allowed: readonly string[]): boolean {
  return [...attrs.keys()].every((name) => allowed.includes(name));
}

function attributeProblem(
  tag: string,
  attrs: Map<string, string>,
  session: string,
  images: string[],
): string | undefined {
  switch (tag) {
    case "html":
      return only(attrs, ["lang"]) ? undefined : "the html element has other attributes";
    case "meta": {
      if (!only(attrs, ["charset", "http-equiv", "name", "content"])) {
        return "a meta element has other attributes";
      }
      const equiv = attrs.get("http-equiv");
      if (equiv !== undefined && equiv.toLowerCase() !== "content-security-policy") {
        return "a meta element sets a header other than the content security policy";
      }
      const name = attrs.get("name");
      if (name !== undefined && !["referrer", "viewport"].includes(name.toLowerCase())) {
        return "a meta element has an unexpected name";
      }
      return undefined;
    }
    case "a": {
      if (!only(attrs, ["href", "rel"])) return "a link has other attributes";
      const href = attrs.get("href");
      return href === undefined || LINK_RE.test(href)
        ? undefined
        : "a link target is not an http, https or mailto URL";
    }
    case "img": {
      if (!only(attrs, ["src", "alt", "width", "height"])) return "an image has other attributes";
      for (const d of ["width", "height"]) {
        const v = attrs.get(d);
        if (v !== undefined && !/^[1-9][0-9]{0,5}$/.test(v)) return "an image size is malformed";
      }
      const prefix = `/output/img/${session}/`;
      const src = attrs.get("src") ?? "";
      const file = src.startsWith(prefix) ? src.slice(prefix.length) : "";
      if (!ARTICLE_IMAGE_RE.test(file)) {
        return "an image does not come from this session's own image folder";
      }
      images.push(file);
      return undefined;
    }
    default:
      return attrs.size === 0 ? undefined : "an element carries attributes";
  }
}

/**
 * Checks a published page against the shape deployment renders.
 *
 * @example
 * ```ts
 * import { checkArticleHtml } from "./article_check.ts";
 * const s = "0f8fad5b-d9cb-469f-a165-70867728950e";
 * const other = "1f8fad5b-d9cb-469f-a165-70867728950e";
 * const img = (session: string) =>
 *   `<figure><img src="/output/img/${session}/${"a".repeat(64)}.png" alt=""></figure>`;
 * if (!checkArticleHtml(`<article><p>Hi</p>${img(s)}</article>`, s).ok) throw new Error();
 * if (checkArticleHtml(`<article>${img(other)}</article>`, s).ok) throw new Error();
 * ```
 */
export function checkArticleHtml(html: string, session: string): ArticleCheck {
  if (!UUID_RE.test(session)) return { ok: false, problem: "the session id is malformed" };
  const images: string[] = [];
  let pos = 0;
  for (;;) {
    const lt = html.indexOf("<", pos);
    if (lt < 0) return { ok: true, images };
    const next = html.charAt(lt + 1);
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      if (end < 0) return { ok: false, problem: "a comment is not closed" };
      pos = end + 3;
    } else if (next === "!") {
      DOCTYPE_RE.lastIndex = lt;
      if (!DOCTYPE_RE.test(html)) {
        return { ok: false, problem: "a markup declaration is unexpected" };
      }
      pos = DOCTYPE_RE.lastIndex;
    } else if (next === "/") {
      END_TAG_RE.lastIndex = lt;
      const m = END_TAG_RE.exec(html);
      if (m === null) return { ok: false, problem: "an end tag is malformed" };
      if (!ALLOWED_TAGS.has(m[1]!.toLowerCase())) {
        return { ok: false, problem: "an element is outside the published page format" };
      }
      pos = END_TAG_RE.lastIndex;
    } else if (/[a-zA-Z]/.test(next)) {
      START_TAG_RE.lastIndex = lt;
      const m = START_TAG_RE.exec(html);
      if (m === null) return { ok: false, problem: "a tag is malformed" };
      const tag = m[1]!.toLowerCase();
      if (!ALLOWED_TAGS.has(tag)) {
        return { ok: false, problem: "an element is outside the published page format" };
      }
      if (m[3] === "/" && !VOID_TAGS.has(tag)) {
        return { ok: false, problem: "a non-void element is self-closed" };
      }
      const attrs = attributes(m[2]!);
      if (attrs === undefined) return { ok: false, problem: "an attribute list is malformed" };
      const problem = attributeProblem(tag, attrs, session, images);
      if (problem !== undefined) return { ok: false, problem };
      pos = START_TAG_RE.lastIndex;
    } else if (next === "?") {
      // a processing instruction is a bogus comment to a browser: refuse rather than guess
      return { ok: false, problem: "a processing instruction is unexpected" };
    } else {
      pos = lt + 1; // "<" followed by anything else is text to a browser
    }
  }
}

/** What the articles list shows of a page that passed {@linkcode checkArticleHtml}. */
export interface ArticleSummary {
  /** Plain text (decoded; escape it again to show it). */
  title: string;
  /** Plain text of the body, whitespace collapsed, at most `previewChars` long. */
  preview: string;
  /** The first image file, if any. */
  thumbnail: string | undefined;
}

/**
 * Extracts the title, a text preview and the first image of a checked page.
 *
 * @example
 * ```ts
 * import { summarizeArticle } from "./article_check.ts";
 * const s = summarizeArticle(
 *   "<title>A &amp; B</title><article><h1>A &amp; B</h1><p>Body <em>text</em></p></article>",
 *   [],
 * );
 * if (s.title !== "A & B" || s.preview !== "Body text") throw new Error();
 * ```
 */
export function summarizeArticle(
  html: string,
  images: readonly string[],
  previewChars = 240,
): ArticleSummary {
  const title = /<title>([^<]*)<\/title>/i.exec(html)?.[1] ?? "";
  const article = /<article>([\s\S]*)<\/article>/i.exec(html)?.[1] ?? "";
  const body = article
    .replace(/<h1>[^<]*<\/h1>/i, " ")
    .replace(/<figure>[\s\S]*?<\/figure>/gi, " ")
    .replace(
      /<\/?(?:p|h[1-6]|li|ul|ol|pre|blockquote|table|thead|tbody|tr|th|td|hr|br)\b[^>]*>/gi,
      " ",
    )
    .replace(/<[^>]*>/g, "");
  const text = decodeEntities(body).replace(/\s+/g, " ").trim();
  const chars = [...text];
  return {
    title: decodeEntities(title).replace(/\s+/g, " ").trim(),
    preview: chars.length > previewChars ? `${chars.slice(0, previewChars - 1).join("")}…` : text,
    thumbnail: images[0],
  };
}
