/**
 * Building viewer responses: every one of them carries `securityHeaders()`,
 * error pages included, and an error page says only what the handler chose
 * (never a value from the request).
 *
 * @module
 */
import { HTML_TYPE, securityHeaders } from "./headers.ts";
import { errorPageHtml } from "./pages.ts";

/** Options for {@linkcode htmlResponse}. */
export interface HtmlResponseOptions {
  status?: number;
  /** A second policy enforced with the viewer's own (see `securityHeaders`). */
  extraPolicy?: string;
  /** Extra headers (e.g. `set-cookie`). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * An HTML response with the security headers.
 *
 * @example
 * ```ts
 * import { htmlResponse } from "./responses.ts";
 * const res = htmlResponse("<p>hi</p>");
 * if (res.headers.get("x-content-type-options") !== "nosniff") throw new Error();
 * ```
 */
export function htmlResponse(html: string, options: HtmlResponseOptions = {}): Response {
  const headers = securityHeaders({
    contentType: HTML_TYPE,
    ...(options.extraPolicy !== undefined ? { extraPolicy: options.extraPolicy } : {}),
  });
  for (const [k, v] of Object.entries(options.headers ?? {})) headers.set(k, v);
  return new Response(html, { status: options.status ?? 200, headers });
}

const TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  421: "Misdirected Request",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * An error page with the security headers.
 *
 * @example
 * ```ts
 * import { errorResponse } from "./responses.ts";
 * const res = errorResponse(404, "There is no such page.");
 * if (res.status !== 404 || !res.headers.get("content-security-policy")) throw new Error();
 * ```
 */
export function errorResponse(
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return htmlResponse(errorPageHtml(status, TITLES[status] ?? "Error", message), {
    status,
    headers,
  });
}

/** A redirect to a path of the viewer (built from validated values only). */
export function redirectResponse(status: 303 | 308, location: string): Response {
  const headers = securityHeaders({ contentType: "text/plain; charset=utf-8" });
  headers.set("location", location);
  return new Response(null, { status, headers });
}

/** A response with bytes of a fixed type and the security headers. */
export function bytesResponse(
  body: Uint8Array<ArrayBuffer> | string,
  contentType: string,
): Response {
  return new Response(body, { status: 200, headers: securityHeaders({ contentType }) });
}
