/**
 * The intake web form as a pure request → response function: `GET /login`,
 * `POST /login`, `GET /submit`, `POST /submit`, `POST /logout` and the static
 * files. The checks, in order: `Host` (421, against DNS rebinding), method and
 * route (404/405), for every POST an `Origin`/`Sec-Fetch-Site` from another site
 * (403: the first CSRF line), the session cookie (GET → redirect to /login,
 * POST → 403 `unauthenticated`), then for an article the credential's quota and the queue depth
 * shared with the API (429/503, before the body is read), the body limit (413),
 * the session's CSRF token (403: the second CSRF line), every API limit
 * (400/413/415, the message shown next to its field), and only then the shared
 * `accept`, which writes. Every refusal is reported to `refused` (audited as
 * `intake_refused`); redirects of a browser that is not logged in are not
 * refusals. The credential itself never leaves `POST /login`: the browser gets a
 * random session id, the server keeps the credential's record.
 *
 * @module
 */
import type { Clock } from "../../../primitives/time/clock.ts";
import type { OperatorToken } from "../../runtime/protocol.ts";
import { constantTimeEqualText } from "../../../primitives/crypto/bytes.ts";
import { TOKEN_RE } from "../../../domain/keys/operator_token.ts";
import type { Accepted } from "../accept.ts";
import { authenticate } from "../auth.ts";
import type { Admission } from "../handler.ts";
import { IntakeRefusal } from "../refusal.ts";
import type { Submission } from "../submission.ts";
import { STATIC_ASSETS } from "./assets.ts";
import { readSessionCookie, sessionCookie } from "./cookies.ts";
import { fieldOf, type PostedArticle, readArticleForm, readSmallForm } from "./form.ts";
import { pageHeaders } from "./headers.ts";
import { LoginLimiter } from "./login_limit.ts";
import { acceptedPage, errorPage, loginPage, submitPage } from "./pages.ts";
import { type WebSession, WebSessions } from "./sessions.ts";

/** Where the viewer listens unless told otherwise. */
export const DEFAULT_VIEWER_URL = "http://127.0.0.1:8080";

/** Options for {@linkcode createIntakeWebHandler}. */
export interface IntakeWebOptions {
  /** The credentials intake accepts (hashes only). */
  tokens: readonly OperatorToken[];
  clock: Clock;
  /** The port intake listens on: `Host` must be `127.0.0.1:<port>` or `localhost:<port>`. */
  port: number;
  /** The viewer's origin, for the link to a session (default {@linkcode DEFAULT_VIEWER_URL}). */
  viewerUrl?: string;
  /** Quota and queue admission, shared with the API. */
  admission: Admission;
  /** Writes and sends an accepted submission. */
  accept(submission: Submission, credential: OperatorToken): Promise<Accepted>;
  /** Reports a refusal (the `intake_refused` event). */
  refused(refusal: IntakeRefusal): Promise<void>;
}

const HTML = "text/html; charset=utf-8";
const CSRF_MESSAGE = "The form's CSRF token is missing or does not match this login session";

/**
 * The viewer page of one session (`/sessions/<id>`, which updates live until the
 * session ends).
 *
 * @example
 * ```ts
 * import { viewerSessionLink } from "./handler.ts";
 * const link = viewerSessionLink("http://127.0.0.1:8080", "0b8f1c52-8c43-4ad4-9a57-8f8e1c8d4a10");
 * if (link !== "http://127.0.0.1:8080/sessions/0b8f1c52-8c43-4ad4-9a57-8f8e1c8d4a10") {
 *   throw new Error();
 * }
 * ```
 */
export function viewerSessionLink(viewerUrl: string, sessionId: string): string {
  return `${viewerUrl.replace(/\/+$/, "")}/sessions/${encodeURIComponent(sessionId)}`;
}

/** The form's own paths (every other path stays with the API). */
export const WEB_PATHS: ReadonlySet<string> = new Set(["/", "/login", "/submit", "/logout"]);

/**
 * Whether a path belongs to the web form: its pages and anything under `/static/`.
 *
 * @example
 * ```ts
 * import { isWebPath } from "./handler.ts";
 * if (!isWebPath("/login") || !isWebPath("/static/x") || isWebPath("/api/submit")) {
 *   throw new Error();
 * }
 * ```
 */
export function isWebPath(pathname: string): boolean {
  return WEB_PATHS.has(pathname) || pathname.startsWith("/static/");
}

function page(status: number, html: string, extra: Record<string, string> = {}): Response {
  return new Response(html, { status, headers: pageHeaders(HTML, extra) });
}

function redirect(location: string, extra: Record<string, string> = {}): Response {
  return new Response(null, {
    status: 303,
    headers: pageHeaders("text/plain; charset=utf-8", { location, ...extra }),
  });
}

function refusalHeaders(refusal: IntakeRefusal): Record<string, string> {
  const headers: Record<string, string> = {};
  if (refusal.retryAfter !== undefined) headers["retry-after"] = String(refusal.retryAfter);
  if (refusal.status === 405) headers["allow"] = "GET, HEAD, POST";
  return headers;
}

function withCredential(refusal: IntakeRefusal, credential: string): IntakeRefusal {
  if (refusal.credential !== undefined) return refusal;
  return new IntakeRefusal(refusal.status, refusal.reason, refusal.message, {
    credential,
    ...(refusal.retryAfter !== undefined ? { retryAfter: refusal.retryAfter } : {}),
  });
}

function csrfMatches(session: WebSession, presented: string | undefined): boolean {
  return presented !== undefined && constantTimeEqualText(presented, session.csrf);
}

/**
 * Builds the web form's request handler (`remote` is the client's address, for
 * login attempt limiting).
 *
 * @example
 * ```ts
 * import { createIntakeWebHandler } from "./handler.ts";
 * import { createAdmission } from "../handler.ts";
 * const clock = { now: () => Date.now() };
 * const limits = { person_per_minute: 10, automation_per_minute: 100, max_queue_depth: 100 };
 * const web = createIntakeWebHandler({
 *   tokens: [], clock, port: 8090,
 *   admission: createAdmission({ limits, clock, queueDepth: () => Promise.resolve(0) }),
 *   accept: () => Promise.reject(new Error("not reached")),
 *   refused: () => Promise.resolve(),
 * });
 * const res = await web(new Request("http://127.0.0.1:8090/submit"), "127.0.0.1");
 * if (res.status !== 303 || res.headers.get("location") !== "/login") throw new Error();
 * ```
 */
export function createIntakeWebHandler(
  options: IntakeWebOptions,
): (request: Request, remote: string) => Promise<Response> {
  const sessions = new WebSessions(options.clock);
  const limiter = new LoginLimiter(options.clock);
  const viewerUrl = options.viewerUrl ?? DEFAULT_VIEWER_URL;
  const hosts = new Set([`127.0.0.1:${options.port}`, `localhost:${options.port}`]);
  const origins = new Set([...hosts].map((h) => `http://${h}`));

  async function refuse(
    refusal: IntakeRefusal,
    render: (refusal: IntakeRefusal) => string,
  ): Promise<Response> {
    await options.refused(refusal);
    return page(refusal.status, render(refusal), refusalHeaders(refusal));
  }

  function sessionOf(request: Request): Promise<WebSession | undefined> {
    return sessions.get(readSessionCookie(request.headers.get("cookie")));
  }

  function checkSameOrigin(request: Request): void {
    // a page on another site can post a form here; browsers say where it came from.
    // Sec-Fetch-Site first: under Referrer-Policy no-referrer Chromium sends Origin: null
    // even for a same-origin form post
    const origin = request.headers.get("origin");
    const site = request.headers.get("sec-fetch-site");
    const foreign = site !== null
      ? site !== "same-origin" && site !== "none"
      : origin !== null && origin !== "null" && !origins.has(origin);
    if (foreign) {
      throw new IntakeRefusal(
        403,
        "bad_credential",
        "Cross-site form post refused: the request did not come from this intake (CSRF protection)",
      );
    }
  }

  async function postLogin(request: Request, remote: string): Promise<Response> {
    const form = await readSmallForm(request, ["credential"]);
    const typed = (form.get("credential") ?? "").trim();
    const claimed = TOKEN_RE.exec(typed)?.[1] ?? "-";
    const wait = limiter.retryAfter(remote, claimed);
    if (wait !== undefined) {
      return await refuse(
        new IntakeRefusal(
          429,
          "quota_exceeded",
          `Too many failed logins: try again in ${wait} seconds`,
          { retryAfter: wait },
        ),
        (r) => loginPage(r.message),
      );
    }
    let credential: OperatorToken;
    try {
      credential = await authenticate(`Bearer ${typed}`, options.tokens);
    } catch (err: unknown) {
      if (!(err instanceof IntakeRefusal)) throw err;
      limiter.failed(remote, claimed);
      const message = err.status === 401
        ? "Enter an operator credential"
        : "That credential is not one intake accepts";
      return await refuse(
        new IntakeRefusal(err.status, err.reason, message),
        (r) => loginPage(r.message),
      );
    }
    // a fresh id at every login: a session id planted before login is worth nothing
    const old = readSessionCookie(request.headers.get("cookie"));
    if (old !== undefined) await sessions.delete(old);
    const { id } = await sessions.create(credential);
    return redirect("/submit", { "set-cookie": sessionCookie(id, sessions.ttlSeconds) });
  }

  async function postSubmit(request: Request): Promise<Response> {
    const session = await sessionOf(request);
    if (session === undefined) {
      throw new IntakeRefusal(403, "unauthenticated", "Not logged in: log in to submit");
    }
    const credential = session.credential;
    let posted: PostedArticle | undefined;
    let release: (() => void) | undefined;
    try {
      release = await options.admission.admit(credential);
      posted = await readArticleForm(request);
      if (!csrfMatches(session, posted.csrf)) {
        throw new IntakeRefusal(403, "bad_credential", CSRF_MESSAGE);
      }
      const accepted = await options.accept(await posted.parse(), credential);
      return page(
        200,
        acceptedPage({
          csrf: session.csrf,
          sessionId: accepted.session_id,
          imageCount: accepted.image_count,
          viewerLink: viewerSessionLink(viewerUrl, accepted.session_id),
        }),
      );
    } catch (err: unknown) {
      if (!(err instanceof IntakeRefusal)) throw err;
      const refusal = withCredential(err, credential.id);
      if (refusal.message === CSRF_MESSAGE) {
        return await refuse(
          refusal,
          (r) => errorPage({ status: r.status, message: r.message, reason: r.reason }),
        );
      }
      return await refuse(refusal, (r) =>
        submitPage({
          csrf: session.csrf,
          credentialId: credential.id,
          ...(posted !== undefined ? { title: posted.title, markdown: posted.markdown } : {}),
          errors: { [fieldOf(r)]: r.message },
        }));
    } finally {
      release?.();
    }
  }

  async function postLogout(request: Request): Promise<Response> {
    const id = readSessionCookie(request.headers.get("cookie"));
    const session = await sessions.get(id);
    if (id === undefined || session === undefined) {
      throw new IntakeRefusal(403, "unauthenticated", "Not logged in: nothing to log out of");
    }
    const form = await readSmallForm(request, ["csrf"]);
    if (!csrfMatches(session, form.get("csrf"))) {
      throw new IntakeRefusal(403, "bad_credential", CSRF_MESSAGE, {
        credential: session.credential.id,
      });
    }
    await sessions.delete(id);
    return redirect("/login", { "set-cookie": sessionCookie("", 0) });
  }

  async function get(request: Request, path: string): Promise<Response> {
    const asset = STATIC_ASSETS.get(path);
    if (asset !== undefined) {
      return new Response(asset.body, { status: 200, headers: pageHeaders(asset.contentType) });
    }
    if (path === "/") return redirect("/submit");
    const session = await sessionOf(request);
    if (path === "/login") {
      return session === undefined ? page(200, loginPage()) : redirect("/submit");
    }
    if (path === "/submit") {
      return session === undefined
        ? redirect("/login")
        : page(200, submitPage({ csrf: session.csrf, credentialId: session.credential.id }));
    }
    throw new IntakeRefusal(404, "not_found", "No such page");
  }

  async function route(request: Request, remote: string): Promise<Response> {
    const url = new URL(request.url);
    const host = request.headers.get("host") ?? url.host;
    if (!hosts.has(host.toLowerCase())) {
      throw new IntakeRefusal(421, "bad_host", "Unexpected Host header");
    }
    const path = url.pathname;
    if (request.method === "GET" || request.method === "HEAD") return await get(request, path);
    if (request.method !== "POST") {
      throw new IntakeRefusal(
        405,
        "method_not_allowed",
        "Method not allowed: expected GET or POST",
      );
    }
    if (path !== "/login" && path !== "/submit" && path !== "/logout") {
      throw new IntakeRefusal(404, "not_found", "No such form");
    }
    checkSameOrigin(request);
    if (path === "/login") return await postLogin(request, remote);
    if (path === "/submit") return await postSubmit(request);
    return await postLogout(request);
  }

  return async (request, remote) => {
    try {
      return await route(request, remote);
    } catch (err: unknown) {
      const refusal = err instanceof IntakeRefusal
        ? err
        : new IntakeRefusal(500, "handler_error", "The request could not be handled");
      if (!(err instanceof IntakeRefusal)) {
        console.error(
          `intake web: ${(err instanceof Error ? err.message : String(err)).slice(0, 500)}`,
        );
      }
      await request.body?.cancel().catch(() => {});
      return await refuse(
        refusal,
        (r) => errorPage({ status: r.status, message: r.message, reason: r.reason }),
      );
    }
  };
}
