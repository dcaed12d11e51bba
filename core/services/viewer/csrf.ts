/**
 * Cross-site request forgery protection for the viewer's one state-changing
 * request (`POST /ledger/verify`), needed even on loopback: any page the
 * operator's browser opens could post a form to 127.0.0.1. A request passes only
 * with all of: the per-process random token in the form's hidden field, the
 * same token in a `SameSite=Strict`, `HttpOnly` cookie (a cross-site post does
 * not carry it), and — when the browser sends them — an `Origin` equal to the
 * viewer's own origin and `Sec-Fetch-Site: same-origin`. The token is never
 * derived from anything an attacker can see, and is compared in constant time.
 *
 * @module
 */
import { constantTimeEqualText, toHex } from "../../primitives/crypto/bytes.ts";

/** The cookie that carries the token. */
export const CSRF_COOKIE = "saoe_viewer_csrf";
/** The hidden form field that carries the token. */
export const CSRF_FIELD = "csrf";

/**
 * A new random token (32 bytes, hex).
 *
 * @example
 * ```ts
 * import { newCsrfToken } from "./csrf.ts";
 * if (!/^[0-9a-f]{64}$/.test(newCsrfToken())) throw new Error();
 * ```
 */
export function newCsrfToken(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The `Set-Cookie` value that hands the token to the viewer's own pages. */
export function csrfCookie(token: string): string {
  return `${CSRF_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

/** The token in a `Cookie` header, if exactly one is present. */
export function cookieToken(header: string | null): string | undefined {
  if (header === null) return undefined;
  const values = header.split(";").map((p) => p.trim()).filter((p) =>
    p.startsWith(`${CSRF_COOKIE}=`)
  ).map((p) => p.slice(CSRF_COOKIE.length + 1));
  return values.length === 1 ? values[0] : undefined;
}

/** Options for {@linkcode csrfAllows}. */
export interface CsrfCheck {
  /** The process's token. */
  token: string;
  /** The viewer's own origin, e.g. `http://127.0.0.1:8080` (from the checked Host). */
  origin: string;
  request: Request;
  /** The form's token field. */
  formToken: string | undefined;
}

/**
 * True when a state-changing request carries the token in both the form and the
 * cookie and comes from the viewer's own origin.
 *
 * @example
 * ```ts
 * import { csrfAllows, newCsrfToken } from "./csrf.ts";
 * const token = newCsrfToken();
 * const request = new Request("http://127.0.0.1:8080/ledger/verify", {
 *   method: "POST",
 *   headers: { cookie: `saoe_viewer_csrf=${token}`, origin: "http://127.0.0.1:8080" },
 * });
 * if (!csrfAllows({ token, origin: "http://127.0.0.1:8080", request, formToken: token })) {
 *   throw new Error();
 * }
 * if (csrfAllows({ token, origin: "http://127.0.0.1:8080", request, formToken: "x" })) {
 *   throw new Error();
 * }
 * ```
 */
export function csrfAllows(check: CsrfCheck): boolean {
  const { request } = check;
  // with Referrer-Policy: no-referrer a browser sends `Origin: null` even for the
  // viewer's own form: that says nothing, so Sec-Fetch-Site, the cookie and the
  // token decide; any real origin must be the viewer's own
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== "null" && origin !== check.origin) return false;
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return false;
  const cookie = cookieToken(request.headers.get("cookie"));
  // evaluate both comparisons: which one failed is not observable through timing
  const formOk = constantTimeEqualText(check.formToken ?? "", check.token);
  const cookieOk = constantTimeEqualText(cookie ?? "", check.token);
  return formOk && cookieOk;
}
