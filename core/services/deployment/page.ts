/**
 * The published article page `output/<session>/index.html`: a complete HTML
 * document whose only inputs are escaped text (the title), body HTML that has
 * just been re-sanitised against the allowlist, and image references built from
 * validated identifiers. A Content-Security-Policy meta tag forbids every script,
 * frame, form target and remote resource, so even a sanitiser miss cannot run
 * code when the page is opened from disk or served without headers.
 *
 * @module
 */
import { assertIdentifier, UUID_RE } from "../../primitives/ids/patterns.ts";
import { IMAGE_FILE_RE } from "./payloads.ts";
import { escapeHtml } from "../../primitives/web/escape.ts";

export { escapeHtml };

/** The policy every published page carries in its meta tag. */
export const PAGE_CSP =
  "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'";

/** One image on the page, in the order given. */
export interface PageImage {
  /** `<sha256>.<jpg|png>`. */
  file: string;
  width: number;
  height: number;
}

/** Options for {@linkcode renderArticlePage}. */
export interface RenderPageOptions {
  session: string;
  /** Plain text; escaped here. */
  title: string;
  /** Sanitised HTML, inserted as is. */
  bodyHtml: string;
  images: readonly PageImage[];
}

/** The URL the viewer serves a published image at: `/output/img/<session>/<file>`. */
export function imageUrl(session: string, file: string): string {
  const s = assertIdentifier(session, UUID_RE, "session id");
  return `/output/img/${s}/${assertIdentifier(file, IMAGE_FILE_RE, "image file name")}`;
}

function dimension(value: number): string {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Invalid image dimension ${value}: expected a positive integer`);
  }
  return String(value);
}

/**
 * Renders the article page.
 *
 * @example
 * ```ts
 * import { renderArticlePage } from "./page.ts";
 * const html = renderArticlePage({
 *   session: "0f8fad5b-d9cb-469f-a165-70867728950e",
 *   title: "<b>Hi</b>",
 *   bodyHtml: "<p>Body</p>",
 *   images: [],
 * });
 * if (!html.includes("<title>&lt;b&gt;Hi&lt;/b&gt;</title>")) throw new Error();
 * ```
 */
export function renderArticlePage(options: RenderPageOptions): string {
  const title = escapeHtml(options.title);
  const figures = options.images.map((image) =>
    `<figure><img src="${escapeHtml(imageUrl(options.session, image.file))}" alt="" width="${
      dimension(image.width)
    }" height="${dimension(image.height)}"></figure>\n`
  ).join("");
  return [
    "<!doctype html>\n",
    '<html lang="en">\n',
    "<head>\n",
    '<meta charset="utf-8">\n',
    `<meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}">\n`,
    '<meta name="referrer" content="no-referrer">\n',
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    `<title>${title}</title>\n`,
    "</head>\n",
    "<body>\n",
    "<article>\n",
    `<h1>${title}</h1>\n`,
    options.bodyHtml,
    options.bodyHtml.endsWith("\n") || options.bodyHtml === "" ? "" : "\n",
    figures,
    "</article>\n",
    "</body>\n",
    "</html>\n",
  ].join("");
}
