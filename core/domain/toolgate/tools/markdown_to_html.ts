/**
 * Tool `markdown_to_html`: renders untrusted Markdown to HTML that is safe to publish.
 *
 * Safe by construction, then checked:
 *
 * 1. markdown-it with `html: false` escapes every raw HTML tag in the input and
 *    refuses `javascript:`/`vbscript:`/`file:`/`data:` link targets; the image
 *    and strikethrough rules are off (no `<img>`, no `<s>`).
 * 2. Before rendering, every token loses every attribute except a link's `href`,
 *    which is kept only for an absolute `http:`, `https:` or `mailto:` URL, and
 *    every link gets `rel="noopener noreferrer"`. Fenced code renders without
 *    its language class.
 * 3. {@linkcode verifyArticleHtml} then checks the rendered HTML against the
 *    allowlist, tag by tag: an element, attribute or URL outside it, or a stray
 *    `<`, fails the call (fail closed), it is never "cleaned".
 *
 * Deployment sanitises the result again with DOMPurify on jsdom in its own
 * process (`core/services/deployment/html_sanitizer.ts`, the same {@linkcode ALLOWED_TAGS}),
 * so a flaw in one layer is not a published script. jsdom is not loaded here:
 * importing it in a tool Worker cost ~350 ms of CPU per isolate, and a worker
 * serves a bounded number of calls before a fresh one replaces it
 * (docs/decisions.md, "Packages" and "Tool workers").
 *
 * This module is loaded by ToolGate inside a Worker with no permissions, from the
 * exact bytes whose SHA-256 the signed tool manifest names. It may therefore
 * import only pinned npm packages, never a relative module (a blob: module has no
 * base URL, and an unhashed local import would escape the manifest's check).
 *
 * @module
 */
import MarkdownIt from "markdown-it";

/** Elements the HTML may contain; anything else fails the call. */
export const ALLOWED_TAGS: readonly string[] = (
  "p h1 h2 h3 h4 h5 h6 ul ol li pre code blockquote table thead tbody tr th td em strong a hr br"
).split(" ");

/** Link targets allowed in `href`: absolute http, https and mailto URLs only. */
export const ALLOWED_URL_RE = /^(?:https?:\/\/|mailto:)/i;

/** The one `rel` every link carries (no reverse tabnabbing, no referrer). */
export const LINK_REL = "noopener noreferrer";

/** Largest Markdown input accepted, in bytes. */
export const MAX_MARKDOWN_BYTES = 1024 * 1024;

/** What a tool returns to ToolGate. */
export interface ToolOutput {
  bytes: Uint8Array;
  media_type: string;
}

/** Rendered HTML that is outside the allowlist (a bug or a bypass, never input's fault alone). */
export class UnsafeHtmlError extends Error {
  /** Stable reason code. */
  readonly code = "unsafe_html";
  /** Creates the error for `problem` at character `offset`. */
  constructor(problem: string, offset: number) {
    super(`Rendered HTML refused at character ${offset}: ${problem}`);
    this.name = "UnsafeHtmlError";
  }
}

const VOID_TAGS = new Set(["hr", "br"]);
const TAGS = new Set(ALLOWED_TAGS);
// markdown-it escapes & < > " in text and attributes; so must anything that passes here
const TEXT_RE = /[^<>]+/y;
const TAG_RE = /<(\/?)([a-z][a-z0-9]*)((?: [a-z]+="[^"<>]*")*)>/y;
const ATTR_RE = / ([a-z]+)="([^"<>]*)"/g;

/**
 * Checks that `html` contains only allowlisted elements, balanced, with no
 * attribute but a link's `href` (http, https or mailto) and `rel`; throws
 * {@linkcode UnsafeHtmlError} otherwise.
 *
 * @example
 * ```ts
 * import { verifyArticleHtml } from "./markdown_to_html.ts";
 * verifyArticleHtml('<p>a <a href="https://x.org" rel="noopener noreferrer">b</a></p>\n');
 * let refused = false;
 * try {
 *   verifyArticleHtml('<p onclick="x()">a</p>');
 * } catch {
 *   refused = true;
 * }
 * if (!refused) throw new Error();
 * ```
 */
export function verifyArticleHtml(html: string): void {
  const open: string[] = [];
  let pos = 0;
  while (pos < html.length) {
    TEXT_RE.lastIndex = pos;
    if (TEXT_RE.test(html)) {
      pos = TEXT_RE.lastIndex;
      continue;
    }
    TAG_RE.lastIndex = pos;
    const m = TAG_RE.exec(html);
    if (m === null) throw new UnsafeHtmlError("a tag is malformed", pos);
    const [, close, tag, attrs] = m as unknown as [string, string, string, string];
    if (!TAGS.has(tag)) throw new UnsafeHtmlError(`<${tag}> is not allowed`, pos);
    if (close === "/") {
      if (attrs !== "" || open.pop() !== tag) {
        throw new UnsafeHtmlError(`</${tag}> does not close the open element`, pos);
      }
    } else {
      verifyAttributes(tag, attrs, pos);
      if (!VOID_TAGS.has(tag)) open.push(tag);
    }
    pos = TAG_RE.lastIndex;
  }
  if (open.length > 0) throw new UnsafeHtmlError(`<${open.at(-1)}> is not closed`, pos);
}

function verifyAttributes(tag: string, attrs: string, pos: number): void {
  const seen = new Set<string>();
  for (const [, name, value] of attrs.matchAll(ATTR_RE) as Iterable<[string, string, string]>) {
    if (tag !== "a" || seen.has(name)) {
      throw new UnsafeHtmlError(`attribute ${name} on <${tag}> is not allowed`, pos);
    }
    seen.add(name);
    if (name === "href" && ALLOWED_URL_RE.test(value)) continue;
    if (name === "rel" && value === LINK_REL) continue;
    throw new UnsafeHtmlError(`attribute ${name} on <a> is not allowed`, pos);
  }
}

type Renderer = InstanceType<typeof MarkdownIt>;
type Token = ReturnType<Renderer["parse"]>[number];

/** Drops every attribute but an allowed link's `href`, and gives every link its `rel`. */
function restrict(tokens: Token[]): void {
  for (const token of tokens) {
    if (token.children !== null) restrict(token.children);
    if (token.type === "link_open") {
      const href = token.attrGet("href");
      token.attrs = typeof href === "string" && ALLOWED_URL_RE.test(href) ? [["href", href]] : [];
      token.attrs.push(["rel", LINK_REL]);
    } else {
      token.attrs = null;
    }
    // a fence's info string ("```js") would become class="language-js"
    token.info = "";
  }
}

function renderer(): Renderer {
  const md = new MarkdownIt("default", { html: false, linkify: false, typographer: false });
  md.disable(["image", "strikethrough"]);
  return md;
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
  markdownToSafeHtml(
    "# Warm\n\nA *paragraph* with a [link](https://example.org) and `code`.\n\n- item\n\n" +
      "| a |\n|---|\n| b |\n\n```\nx\n```\n",
  );
}

/**
 * Renders Markdown text to HTML within the allowlist.
 *
 * @example
 * ```ts
 * import { markdownToSafeHtml } from "./markdown_to_html.ts";
 * const html = markdownToSafeHtml("# Hi\n\n[x](javascript:alert(1)) <script>1</script>");
 * if (!html.startsWith("<h1>Hi</h1>") || html.includes("<script")) throw new Error();
 * ```
 */
export function markdownToSafeHtml(markdown: string): string {
  const md = renderer();
  const env = {};
  const tokens = md.parse(markdown, env);
  restrict(tokens);
  const html = md.renderer.render(tokens, md.options, env);
  verifyArticleHtml(html);
  return html;
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
