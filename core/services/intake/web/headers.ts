/**
 * The headers every answer of the intake web form carries (docs/design.md section 8):
 * the API's security headers with a Content-Security-Policy for pages that
 * allows nothing but this origin's stylesheet and images, form posts back to
 * this origin, no framing and no `<base>`. No script source is allowed at all:
 * the form works without JavaScript, so an injected script has nothing to run in.
 *
 * @module
 */
import { SECURITY_HEADERS } from "../handler.ts";

/** The pages' Content-Security-Policy. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'";

/**
 * Security headers for a web answer with the given content type.
 *
 * @example
 * ```ts
 * import { pageHeaders } from "./headers.ts";
 * const h = pageHeaders("text/html; charset=utf-8");
 * if (!h["content-security-policy"]!.includes("form-action 'self'")) throw new Error();
 * ```
 */
export function pageHeaders(
  contentType: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    ...SECURITY_HEADERS,
    "content-security-policy": PAGE_CSP,
    "content-type": contentType,
    ...extra,
  };
}
