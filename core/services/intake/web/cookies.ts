/**
 * The session cookie: read from a `Cookie` header, written as `Set-Cookie` with
 * `HttpOnly` (no script can read it), `SameSite=Strict` (no other site's page
 * can make the browser send it) and `Path=/`. No `Secure`: intake serves plain
 * HTTP on loopback only.
 *
 * @module
 */

/** The cookie's name. */
export const SESSION_COOKIE = "saoe_intake_session";

const SESSION_ID_RE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The well-formed session id in a `Cookie` header, or `undefined`.
 *
 * @example
 * ```ts
 * import { readSessionCookie } from "./cookies.ts";
 * const id = "a".repeat(43);
 * if (readSessionCookie(`x=1; saoe_intake_session=${id}`) !== id) throw new Error();
 * if (readSessionCookie("saoe_intake_session=<script>") !== undefined) throw new Error();
 * ```
 */
export function readSessionCookie(header: string | null): string | undefined {
  if (header === null || header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (SESSION_ID_RE.test(value)) return value;
  }
  return undefined;
}

/**
 * The `Set-Cookie` value that stores `id` for `maxAgeSeconds` (0 clears it).
 *
 * @example
 * ```ts
 * import { sessionCookie } from "./cookies.ts";
 * const c = sessionCookie("a".repeat(43), 3600);
 * if (!c.includes("HttpOnly") || !c.includes("SameSite=Strict")) throw new Error();
 * ```
 */
export function sessionCookie(id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}`;
}
