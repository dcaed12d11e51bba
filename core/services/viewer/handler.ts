/**
 * The viewer's request handler: host check, routing, strict parameters, and the
 * pages of `pages.ts`. It decides everything about a request and does only
 * read-only I/O (ledger, status file, `output/`); `server.ts` runs it.
 *
 * Order of checks for every request: the `Host` header must name the viewer's
 * own loopback address (`127.0.0.1:<port>` or `localhost:<port>`), else 421 — a
 * DNS-rebinding page reaches the port under a foreign host name and is refused
 * before anything is read; then the route and method; then the query, where any
 * unknown, repeated or malformed parameter is a 400 whose page does not repeat
 * the value.
 *
 * Articles and images are served through `output_guard.ts`: only files whose
 * bytes hash to the session's `published` event; anything else under `output/`
 * is a plain 404, reported once per file state through `reportOutput`.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { UUID_RE } from "../../primitives/ids/patterns.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { readSupervisorStatus, type SupervisorStatus } from "../supervisor/status.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { VersionStore } from "../../domain/trust/version_store.ts";
import type { WitnessPolicy } from "../../domain/ledger/checkpoint.ts";
import { ARTICLE_IMAGE_RE, summarizeArticle } from "./article_check.ts";
import type { OutputFinding } from "../deployment/published_files.ts";
import { OutputGuard } from "./output_guard.ts";
import { CSRF_FIELD, csrfAllows, csrfCookie, newCsrfToken } from "./csrf.ts";
import { eventStreamResponse } from "./event_stream.ts";
import { lastCheckpoint, runVerification, type VerificationRun } from "./ledger_status.ts";
import type { AuditFilter, LedgerView } from "./ledger_view.ts";
import type { LedgerTail } from "./live.ts";
import {
  type ArticleCard,
  articlesPageHtml,
  auditPageHtml,
  DEFAULT_AUDIT_LIMIT,
  ledgerPageHtml,
  MAX_AUDIT_LIMIT,
  pipelinePageHtml,
  sessionPageHtml,
  sessionsPageHtml,
} from "./pages.ts";
import {
  agentParam,
  intParam,
  type ParamParser,
  parseQuery,
  reasonParam,
  sessionParam,
  typeParam,
} from "./params.ts";
import { bytesResponse, errorResponse, htmlResponse, redirectResponse } from "./responses.ts";
import { SESSION_STATES, type SessionState } from "./sessions.ts";
import { VIEWER_CSS, VIEWER_JS } from "./static_assets.ts";

/** Options for {@linkcode createViewerHandler}. */
export interface ViewerHandlerOptions {
  home: HomeLayout;
  /** The loopback port the viewer listens on (the Host header must name it). */
  port: number;
  view: LedgerView;
  tail: LedgerTail;
  /** Trust for checkpoints: the pinned root and the viewer's own version store. */
  rootPin: string;
  /** The witness policy (from the handover), to verify the witnessed checkpoint. */
  witnesses?: WitnessPolicy;
  skewMs: number;
  clock: Clock;
  versionStore: VersionStore;
  /** The CSRF token; default: a new random one. */
  csrfToken?: string;
  /** Most concurrent event streams; default 64. */
  maxStreams?: number;
  /**
   * Reports a file under `output/` that is refused because no `published` event
   * vouches for it as it is (the viewer agent: a signed `rejected` event);
   * default: a log line only.
   */
  reportOutput?(finding: OutputFinding): Promise<void>;
  /** How old a file of an unpublished session must be before it is reported; default 5 s. */
  outputGraceMs?: number;
  log?(line: string): void;
}

/** A running handler. */
export interface ViewerHandler {
  handle(request: Request): Promise<Response>;
  /**
   * Ends every open event stream and cancels the pending checks of refused
   * output files (call before shutting the server down).
   */
  closeStreams(): void;
}

/** Rows per articles page. */
export const ARTICLES_PER_PAGE = 50;
const MAX_FORM_BYTES = 4096;
const SESSION_PATH_RE = /^\/sessions\/([^/]*)$/;
const OUTPUT_PATH_RE = /^\/output\/([^/]*)(\/?)$/;
const IMAGE_PATH_RE = /^\/output\/img\/([^/]*)\/([^/]*)$/;

const stateParam: ParamParser<SessionState> = (value) =>
  SESSION_STATES.find((s) => s.replace(" ", "-") === value);

const AUDIT_PARAMS = {
  session: sessionParam,
  type: typeParam,
  agent: agentParam,
  reason: reasonParam,
  before: intParam(1),
  limit: intParam(1, MAX_AUDIT_LIMIT),
};
const EVENT_PARAMS = {
  session: sessionParam,
  type: typeParam,
  agent: agentParam,
  reason: reasonParam,
  after: intParam(0),
};

class Refusal extends Error {
  constructor(readonly status: number, message: string, readonly allow?: string) {
    super(message);
  }
}

function filterOf(q: AuditFilter): AuditFilter {
  const f: AuditFilter = {};
  if (q.session !== undefined) f.session = q.session;
  if (q.type !== undefined) f.type = q.type;
  if (q.agent !== undefined) f.agent = q.agent;
  if (q.reason !== undefined) f.reason = q.reason;
  return f;
}

function streamUrl(filter: AuditFilter, after: number): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v !== undefined) q.set(k, String(v));
  q.set("after", String(after));
  return `/events?${q}`;
}

// a chunked body has no Content-Length: count while reading, never buffer more than the cap
async function readCapped(request: Request, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (request.body !== null) {
    for await (const chunk of request.body) {
      total += chunk.byteLength;
      if (total > max) throw new Refusal(413, "The form is too large.");
      chunks.push(chunk);
    }
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function methodCheck(request: Request, allowed: readonly string[]): void {
  if (!allowed.includes(request.method)) {
    throw new Refusal(405, "This method is not allowed here.", allowed.join(", "));
  }
}

/**
 * Builds the handler.
 *
 * @example
 * ```ts ignore
 * const handler = createViewerHandler({ home, port: 8080, view, tail, rootPin, skewMs, clock, versionStore });
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, handler.handle);
 * ```
 */
export function createViewerHandler(options: ViewerHandlerOptions): ViewerHandler {
  const { home, view, tail } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const token = options.csrfToken ?? newCsrfToken();
  const hosts = new Set([`127.0.0.1:${options.port}`, `localhost:${options.port}`]);
  const maxStreams = options.maxStreams ?? 64;
  const streams = new Set<() => void>();
  const trust = {
    home,
    rootPin: options.rootPin,
    skewMs: options.skewMs,
    clock: options.clock,
    versionStore: options.versionStore,
    ...(options.witnesses !== undefined ? { witnesses: options.witnesses } : {}),
  };
  let verification: VerificationRun | undefined;
  let verifying: Promise<VerificationRun> | undefined;
  const guard = new OutputGuard({
    home,
    vouched: (session) => tail.sessions.get(session)?.files,
    catchUp: () => tail.catchUp(),
    report: options.reportOutput ?? (() => Promise.resolve()),
    clock: options.clock,
    ...(options.outputGraceMs !== undefined ? { graceMs: options.outputGraceMs } : {}),
    log,
  });

  async function auditPage(url: URL): Promise<Response> {
    const q = parseQuery(url, AUDIT_PARAMS);
    const filter = filterOf(q);
    const limit = q.limit ?? DEFAULT_AUDIT_LIMIT;
    const sessionSeqs = filter.session !== undefined && tail.caughtUp
      ? tail.sessions.get(filter.session)?.seqs ?? []
      : undefined;
    const page = await view.page({
      filter,
      limit,
      ...(q.before !== undefined ? { before: q.before } : {}),
      ...(sessionSeqs !== undefined ? { sessionSeqs } : {}),
    });
    return htmlResponse(auditPageHtml({
      page,
      filter,
      limit,
      before: q.before,
      stream: q.before === undefined ? streamUrl(filter, page.head.size) : undefined,
    }));
  }

  function sessionsPage(url: URL): Response {
    const q = parseQuery(url, {
      state: stateParam,
      before: intParam(1),
      limit: intParam(1, MAX_AUDIT_LIMIT),
    });
    const limit = q.limit ?? DEFAULT_AUDIT_LIMIT;
    const list = tail.sessions.list({
      limit: limit + 1,
      ...(q.before !== undefined ? { beforeSeq: q.before } : {}),
      ...(q.state !== undefined ? { state: q.state } : {}),
    });
    const shown = list.slice(0, limit);
    return htmlResponse(sessionsPageHtml({
      sessions: shown,
      state: q.state?.replace(" ", "-"),
      olderBefore: list.length > limit ? shown[shown.length - 1]!.firstSeq : undefined,
      limit,
      // from what the index (and so this page) reflects: later records update it live
      stream: q.before === undefined && q.state === undefined
        ? streamUrl({}, tail.lastSeq)
        : undefined,
      complete: tail.caughtUp,
    }));
  }

  async function sessionPage(url: URL, id: string): Promise<Response> {
    if (!UUID_RE.test(id)) throw new Refusal(400, "The session id in the path is malformed.");
    parseQuery(url, {});
    const summary = tail.sessions.get(id);
    const limit = 200;
    const page = await view.page({
      filter: { session: id },
      limit,
      ...(tail.caughtUp ? { sessionSeqs: summary?.seqs ?? [] } : {}),
    });
    return htmlResponse(sessionPageHtml({
      session: id,
      summary,
      rows: page.rows,
      more: page.olderBefore !== undefined,
      // rows already shown are skipped by the client (by seq); the state follows the index
      stream: streamUrl({ session: id }, Math.min(page.head.size, tail.lastSeq)),
    }));
  }

  async function articlesPage(url: URL): Promise<Response> {
    const q = parseQuery(url, { page: intParam(1, 1_000_000) });
    const pageNo = q.page ?? 1;
    // only sessions whose page hashes to their published event
    const all = await guard.list();
    const slice = all.slice((pageNo - 1) * ARTICLES_PER_PAGE, pageNo * ARTICLES_PER_PAGE);
    const cards: ArticleCard[] = [];
    for (const entry of slice) {
      try {
        const article = await guard.page(entry.session);
        cards.push({
          session: entry.session,
          summary: article.check.ok
            ? summarizeArticle(article.html, article.check.images)
            : { refused: article.check.problem },
        });
      } catch (err: unknown) {
        cards.push({
          session: entry.session,
          summary: {
            refused: err instanceof SaoeError ? `cannot read it (${err.code})` : "cannot read it",
          },
        });
      }
    }
    const more = all.length > pageNo * ARTICLES_PER_PAGE ? pageNo + 1 : undefined;
    return htmlResponse(articlesPageHtml(cards, more));
  }

  async function articlePage(url: URL, request: Request, id: string, slash: string) {
    if (!UUID_RE.test(id)) throw new Refusal(400, "The session id in the path is malformed.");
    parseQuery(url, {});
    if (slash === "") return redirectResponse(308, `/output/${id}/`);
    const article = await guard.page(id);
    if (!article.check.ok) {
      log(`viewer: refusing the page of session ${id}: ${article.check.problem}`);
      throw new Refusal(
        403,
        `This article is not served: ${article.check.problem}.`,
      );
    }
    // the browser enforces this on the resolved URL: no other session's image loads
    const origin = `http://${request.headers.get("host")}`;
    return htmlResponse(article.html, { extraPolicy: `img-src ${origin}/output/img/${id}/` });
  }

  async function imageResponse(url: URL, session: string, file: string): Promise<Response> {
    if (!UUID_RE.test(session)) throw new Refusal(400, "The session id in the path is malformed.");
    if (!ARTICLE_IMAGE_RE.test(file)) throw new Refusal(400, "The image name is malformed.");
    parseQuery(url, {});
    const image = await guard.image(session, file);
    return bytesResponse(image.bytes, image.contentType);
  }

  async function ledgerPage(url: URL): Promise<Response> {
    parseQuery(url, {});
    const [head, checkpoint] = await Promise.all([view.head(), lastCheckpoint(trust)]);
    return htmlResponse(ledgerPageHtml({ head, checkpoint, verification, csrfToken: token }), {
      headers: { "set-cookie": csrfCookie(token) },
    });
  }

  async function verifyPost(url: URL, request: Request): Promise<Response> {
    parseQuery(url, {});
    const type = request.headers.get("content-type") ?? "";
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
      throw new Refusal(415, "Send the verification form as application/x-www-form-urlencoded.");
    }
    const length = Number(request.headers.get("content-length") ?? "0");
    if (!Number.isFinite(length) || length > MAX_FORM_BYTES) {
      throw new Refusal(413, "The form is too large.");
    }
    const bytes = await readCapped(request, MAX_FORM_BYTES);
    const form = new URLSearchParams(new TextDecoder().decode(bytes));
    const origin = `http://${request.headers.get("host")}`;
    const fields = form.getAll(CSRF_FIELD);
    if (
      fields.length !== 1 ||
      !csrfAllows({ token, origin, request, formToken: fields[0] })
    ) {
      throw new Refusal(403, "The request was refused: reload the ledger page and try again.");
    }
    verifying ??= runVerification(trust).finally(() => (verifying = undefined));
    verification = await verifying;
    return redirectResponse(303, "/ledger");
  }

  async function pipelinePage(url: URL): Promise<Response> {
    parseQuery(url, {});
    let status: SupervisorStatus | undefined;
    try {
      status = await readSupervisorStatus(home);
    } catch (err: unknown) {
      log(`viewer: cannot read the status file: ${err instanceof Error ? err.message : err}`);
    }
    return htmlResponse(pipelinePageHtml(status));
  }

  function events(url: URL, request: Request): Response {
    const q = parseQuery(url, EVENT_PARAMS);
    const lastId = request.headers.get("last-event-id");
    const fromHeader = lastId === null ? undefined : intParam(0)(lastId);
    if (lastId !== null && fromHeader === undefined) {
      throw new Refusal(400, "The Last-Event-ID header is malformed.");
    }
    if (streams.size >= maxStreams) throw new Refusal(503, "Too many live streams are open.");
    return eventStreamResponse({
      tail,
      view,
      filter: filterOf(q),
      after: fromHeader ?? q.after ?? tail.lastSeq,
      track(close) {
        streams.add(close);
        return () => streams.delete(close);
      },
    });
  }

  const GET = ["GET", "HEAD"] as const;
  const exact: Readonly<
    Record<string, [readonly string[], (r: Request, u: URL) => Promise<Response> | Response]>
  > = {
    "/": [GET, (_r, u) => auditPage(u)],
    "/audit": [GET, (_r, u) => auditPage(u)],
    "/sessions": [GET, (_r, u) => sessionsPage(u)],
    "/articles": [GET, (_r, u) => articlesPage(u)],
    "/ledger": [GET, (_r, u) => ledgerPage(u)],
    "/ledger/verify": [["POST"], (r, u) => verifyPost(u, r)],
    "/pipeline": [GET, (_r, u) => pipelinePage(u)],
    "/events": [["GET"], (r, u) => events(u, r)],
    "/static/viewer.js": [
      GET,
      (_r, u) => staticFile(u, VIEWER_JS, "text/javascript; charset=utf-8"),
    ],
    "/static/viewer.css": [GET, (_r, u) => staticFile(u, VIEWER_CSS, "text/css; charset=utf-8")],
  };

  function staticFile(url: URL, body: string, type: string): Response {
    parseQuery(url, {});
    return bytesResponse(body, type);
  }

  async function route(request: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    const fixed = Object.hasOwn(exact, path) ? exact[path] : undefined;
    if (fixed !== undefined) {
      methodCheck(request, fixed[0]);
      return await fixed[1](request, url);
    }
    const image = IMAGE_PATH_RE.exec(path);
    if (image !== null) {
      methodCheck(request, GET);
      return await imageResponse(url, image[1]!, image[2]!);
    }
    if (path.startsWith("/output/img/")) throw new Refusal(400, "The image path is malformed.");
    const output = OUTPUT_PATH_RE.exec(path);
    if (output !== null) {
      methodCheck(request, GET);
      return await articlePage(url, request, output[1]!, output[2]!);
    }
    const session = SESSION_PATH_RE.exec(path);
    if (session !== null) {
      methodCheck(request, GET);
      return await sessionPage(url, session[1]!);
    }
    throw new Refusal(404, "There is no such page.");
  }

  function refusalResponse(err: unknown): Response {
    if (err instanceof Refusal) {
      return errorResponse(err.status, err.message, err.allow ? { allow: err.allow } : {});
    }
    if (err instanceof SaoeError) {
      switch (err.code) {
        case "bad_identifier":
          // the message names only the route's own parameters, never a value
          return errorResponse(400, `${err.message}.`);
        case "not_found":
          return errorResponse(404, "There is no such article or image.");
        case "unsafe_path":
        case "size_exceeded":
        case "unsupported_media":
        case "parse_error":
          log(`viewer: refused to serve a file: ${err.message}`);
          return errorResponse(403, "This file is not served: it failed the viewer's checks.");
      }
    }
    log(`viewer: internal error: ${err instanceof Error ? err.message : String(err)}`);
    return errorResponse(500, "The viewer could not answer this request.");
  }

  return {
    async handle(request: Request): Promise<Response> {
      const host = request.headers.get("host");
      if (host === null || !hosts.has(host)) {
        return errorResponse(421, "This server answers only to its own loopback address.");
      }
      try {
        return await route(request, new URL(request.url));
      } catch (err: unknown) {
        return refusalResponse(err);
      }
    },
    closeStreams() {
      guard.close();
      for (const close of [...streams]) close();
    },
  };
}
