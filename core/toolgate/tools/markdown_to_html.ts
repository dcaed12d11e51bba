/**
 * Tool `markdown_to_html`: renders untrusted Markdown to HTML that is safe to publish.
 *
 * Two layers, each enough on its own for the common attacks: markdown-it with
 * `html: false` escapes every raw HTML tag in the input (and refuses
 * `javascript:`/`vbscript:`/`file:`/`data:` link targets), then DOMPurify on jsdom
 * keeps only an allowlist of structural elements and the `href` of links with an
 * `http:`, `https:` or `mailto:` URL. No `style`, no `on*`, no `data-*`, no images.
 *
 * This module is loaded by ToolGate inside a Worker with no permissions, from the
 * exact bytes whose SHA-256 the signed tool manifest names. It may therefore
 * import only pinned npm packages, never a relative module (a blob: module has no
 * base URL, and an unhashed local import would escape the manifest's check).
 *
 * @module
 */
import MarkdownIt from "markdown-it";
import createDOMPurify from "dompurify";
import { JSDOM } from "jsdom";

/** Elements the sanitised HTML may contain; everything else is removed. */
export const ALLOWED_TAGS: readonly string[] = (
  "p h1 h2 h3 h4 h5 h6 ul ol li pre code blockquote table thead tbody tr th td em strong a hr br"
).split(" ");

/** Link targets allowed in `href`: absolute http, https and mailto URLs only. */
export const ALLOWED_URL_RE = /^(?:https?:\/\/|mailto:)/i;

/** Largest Markdown input accepted, in bytes. */
export const MAX_MARKDOWN_BYTES = 1024 * 1024;

/** What a tool returns to ToolGate. */
export interface ToolOutput {
  bytes: Uint8Array;
  media_type: string;
}

/**
 * Sanitises HTML against the allowlist (the second layer; exported so tests can
 * hit it with raw HTML that markdown-it would have escaped).
 *
 * @example
 * ```ts
 * import { sanitizeHtml } from "./markdown_to_html.ts";
 * const html = sanitizeHtml('<p onclick="x()">a<script>1</script><a href="https://x.org">b</a></p>');
 * if (html !== '<p>a<a href="https://x.org" rel="noopener noreferrer">b</a></p>') throw new Error();
 * ```
 */
export function sanitizeHtml(html: string): string {
  return purifier().sanitize(html, {
    ALLOWED_TAGS: [...ALLOWED_TAGS],
    ALLOWED_ATTR: ["href"],
    ALLOWED_URI_REGEXP: ALLOWED_URL_RE,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOW_UNKNOWN_PROTOCOLS: false,
    ALLOW_SELF_CLOSE_IN_ATTR: false,
    SAFE_FOR_XML: true,
    WHOLE_DOCUMENT: false,
    RETURN_DOM: false,
    RETURN_DOM_FRAGMENT: false,
    RETURN_TRUSTED_TYPE: false,
  });
}

type Purifier = ReturnType<typeof createDOMPurify>;
let cached: Purifier | undefined;

/**
 * One jsdom window and DOMPurify instance per module instance: DOMPurify is made
 * to be reused, building a window costs tens of milliseconds, and in ToolGate a
 * module instance lives in a worker that serves exactly one call anyway.
 */
function purifier(): Purifier {
  if (cached !== undefined) return cached;
  const purify = createDOMPurify(new JSDOM("<!doctype html><html><body></body></html>").window);
  purify.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName !== "A") return;
    const href = node.getAttribute("href");
    // DOMPurify already drops a disallowed URL; this re-check keeps the rule in one place
    if (href !== null && !ALLOWED_URL_RE.test(href)) node.removeAttribute("href");
    // a published link must not hand the reader's page to the target (reverse tabnabbing)
    node.setAttribute("rel", "noopener noreferrer");
  });
  cached = purify;
  return purify;
}

/**
 * Prepares the module before its one call (ToolGate's warm workers call it while
 * waiting): renders a fixed sample so the first real call pays no set-up.
 *
 * @example
 * ```ts
 * import { warm } from "./markdown_to_html.ts";
 * warm();
 * ```
 */
export function warm(): void {
  markdownToSafeHtml("# Warm\n\nA *paragraph* with a [link](https://example.org).\n\n- item\n");
}

/**
 * Renders Markdown text to sanitised HTML.
 *
 * @example
 * ```ts
 * import { markdownToSafeHtml } from "./markdown_to_html.ts";
 * const html = markdownToSafeHtml("# Hi\n\n[x](javascript:alert(1)) <script>1</script>");
 * if (!html.startsWith("<h1>Hi</h1>") || html.includes("<script")) throw new Error();
 * ```
 */
export function markdownToSafeHtml(markdown: string): string {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  return sanitizeHtml(md.render(markdown));
}

/**
 * Tool entry point: `args` must be `{}`, `input` is UTF-8 Markdown; returns UTF-8 HTML.
 *
 * @example
 * ```ts
 * import { run } from "./markdown_to_html.ts";
 * const out = await run({}, new TextEncoder().encode("*hi*"));
 * if (new TextDecoder().decode(out.bytes) !== "<p><em>hi</em></p>\n") throw new Error();
 * ```
 */
export function run(args: unknown, input: Uint8Array): Promise<ToolOutput> {
  try {
    return Promise.resolve(render(args, input));
  } catch (err: unknown) {
    return Promise.reject(err);
  }
}

function render(args: unknown, input: Uint8Array): ToolOutput {
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    throw new TypeError("markdown_to_html expects args to be an object");
  }
  if (Object.keys(args).length !== 0) throw new TypeError("markdown_to_html expects no arguments");
  if (input.byteLength > MAX_MARKDOWN_BYTES) {
    throw new RangeError(
      `Markdown input of ${input.byteLength} bytes exceeds ${MAX_MARKDOWN_BYTES}`,
    );
  }
  // invalid UTF-8 is refused, not replaced: what is published is exactly what was sent
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(input);
  return {
    bytes: new TextEncoder().encode(markdownToSafeHtml(text)),
    media_type: "text/html; charset=utf-8",
  };
}
