/**
 * The viewer's response headers (docs/design.md section 8). Every response the viewer
 * sends — pages, images, static files, the event stream, redirects and error
 * pages — goes through {@linkcode securityHeaders}, so no path can forget the
 * policy: a Content-Security-Policy that allows only the viewer's own script,
 * style and images, no framing (clickjacking), no MIME sniffing (an image served
 * as HTML), no referrer, and no caching of anything.
 *
 * @module
 */

/** The policy on every viewer response. */
export const VIEWER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Options for {@linkcode securityHeaders}. */
export interface SecurityHeaderOptions {
  /** `Content-Type` of the body, when there is one. */
  contentType?: string;
  /**
   * A second, stricter policy enforced alongside {@linkcode VIEWER_CSP} (browsers
   * enforce every policy of a comma-separated list), e.g. an article page's
   * `img-src` narrowed to its own session's image folder.
   */
  extraPolicy?: string;
}

/**
 * The headers of a viewer response.
 *
 * @example
 * ```ts
 * import { securityHeaders, VIEWER_CSP } from "./headers.ts";
 * const h = securityHeaders({ contentType: "text/html; charset=utf-8" });
 * if (h.get("content-security-policy") !== VIEWER_CSP) throw new Error();
 * if (h.get("x-frame-options") !== "DENY") throw new Error();
 * ```
 */
export function securityHeaders(options: SecurityHeaderOptions = {}): Headers {
  const headers = new Headers();
  headers.set(
    "content-security-policy",
    options.extraPolicy === undefined ? VIEWER_CSP : `${VIEWER_CSP}, ${options.extraPolicy}`,
  );
  headers.set("x-frame-options", "DENY");
  headers.set("x-content-type-options", "nosniff");
  headers.set("referrer-policy", "no-referrer");
  headers.set("cache-control", "no-store");
  // another origin may neither embed the viewer's images nor keep a handle on its window
  headers.set("cross-origin-resource-policy", "same-origin");
  headers.set("cross-origin-opener-policy", "same-origin");
  if (options.contentType !== undefined) headers.set("content-type", options.contentType);
  return headers;
}

/** `Content-Type` of the viewer's HTML pages. */
export const HTML_TYPE = "text/html; charset=utf-8";
