/**
 * The intake HTTP API as a pure request → response function (docs/design.md section 8):
 * `POST /api/submit` only. The order of checks is the order of cost, so an
 * unauthenticated or over-quota client never makes intake buffer a body:
 * route and method, `Host` (a DNS-rebinding page cannot reach the loopback API
 * under a foreign name), bearer credential (401/403), per-credential sliding
 * quota (429 + `Retry-After`), global queue depth (503 + `Retry-After`), body
 * size while streaming (413), parsing and every limit (400/413/415), and only
 * then the caller's `accept`, which writes. Every non-2xx answer is
 * `{ok:false, error, reason}` with a reason code and is reported to `refused`;
 * no stack trace or credential ever leaves the process. The paths an optional
 * `pages` route claims go to it instead (the web form of `web/`, which shares
 * the quota and queue admission through {@linkcode createAdmission}).
 *
 * @module
 */
import type { Clock } from "../../primitives/time/clock.ts";
import type { OperatorToken } from "../runtime/protocol.ts";
import type { Accepted } from "./accept.ts";
import { authenticate } from "./auth.ts";
import { QUEUE_FULL_RETRY_SECONDS } from "./limits.ts";
import { SlidingWindowQuota } from "./quota.ts";
import { IntakeRefusal } from "./refusal.ts";
import { parseSubmission, readLimitedBody, type Submission } from "./submission.ts";

/** The API's one route. */
export const SUBMIT_PATH = "/api/submit";

/** Intake's limits from the handover. */
export interface IntakeQuotaLimits {
  person_per_minute: number;
  automation_per_minute: number;
  max_queue_depth: number;
}

/** Options for {@linkcode createIntakeHandler}. */
export interface IntakeHandlerOptions {
  /** The credentials intake accepts (hashes only). */
  tokens: readonly OperatorToken[];
  limits: IntakeQuotaLimits;
  clock: Clock;
  /** The port intake listens on: `Host` must be `127.0.0.1:<port>` or `localhost:<port>`. */
  port: number;
  /** Entries waiting in the queue intake writes. */
  queueDepth(): Promise<number>;
  /** Writes and sends an accepted submission. */
  accept(submission: Submission, credential: OperatorToken): Promise<Accepted>;
  /** Reports a refusal (the `intake_refused` event). */
  refused(refusal: IntakeRefusal): Promise<void>;
  /**
   * Quota and queue admission shared with other front doors (the web form), so a
   * credential has one quota whichever way it submits. Default: its own.
   */
  admission?: Admission;
  /** Another front door on the same port (the web form) for the paths it claims. */
  pages?: PagesRoute;
}

/** Pages served next to the API: every path `handles` claims goes to `serve`. */
export interface PagesRoute {
  handles(pathname: string): boolean;
  /** Answers a request (`remote` is the client's address). */
  serve(request: Request, remote: string): Promise<Response>;
}

/** Options for {@linkcode createAdmission}. */
export interface AdmissionOptions {
  limits: IntakeQuotaLimits;
  clock: Clock;
  /** Entries waiting in the queue intake writes. */
  queueDepth(): Promise<number>;
}

/**
 * Admits an authenticated submission before its body is read: the credential's
 * sliding quota (429), then the queue depth including submissions still being
 * written (503). `admit` resolves to a release function to call once the
 * submission is written or refused.
 */
export interface Admission {
  admit(credential: OperatorToken): Promise<() => void>;
}

/**
 * Creates the per-credential quota and queue-depth admission.
 *
 * @example
 * ```ts
 * import { createAdmission } from "./handler.ts";
 * const admission = createAdmission({
 *   clock: { now: () => 0 },
 *   limits: { person_per_minute: 1, automation_per_minute: 1, max_queue_depth: 10 },
 *   queueDepth: () => Promise.resolve(0),
 * });
 * const who = { id: "ops", sha256: "0".repeat(64), kind: "person" as const };
 * (await admission.admit(who))();
 * const second = await admission.admit(who).then(() => 200, (e) => e.status);
 * if (second !== 429) throw new Error();
 * ```
 */
export function createAdmission(options: AdmissionOptions): Admission {
  const quota = new SlidingWindowQuota(options.clock);
  // admitted requests still writing: counted so concurrent requests cannot overfill the queue
  let inFlight = 0;
  return {
    async admit(credential) {
      const limit = credential.kind === "person"
        ? options.limits.person_per_minute
        : options.limits.automation_per_minute;
      const decision = quota.take(credential.id, limit);
      if (!decision.allowed) {
        throw new IntakeRefusal(
          429,
          "quota_exceeded",
          `Too many submissions: at most ${limit} per minute for this credential`,
          { retryAfter: decision.retryAfterSeconds, credential: credential.id },
        );
      }
      const depth = await options.queueDepth() + inFlight;
      if (depth >= options.limits.max_queue_depth) {
        throw new IntakeRefusal(
          503,
          "queue_full",
          `The pipeline queue is full (${depth} waiting, limit ${options.limits.max_queue_depth})`,
          { retryAfter: QUEUE_FULL_RETRY_SECONDS, credential: credential.id },
        );
      }
      inFlight++;
      let released = false;
      return () => {
        if (!released) inFlight--;
        released = true;
      };
    },
  };
}

/** Security headers on every answer (docs/design.md section 8). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function json(status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": "application/json", ...extra },
  });
}

function refusalResponse(refusal: IntakeRefusal): Response {
  const headers: Record<string, string> = {};
  if (refusal.retryAfter !== undefined) headers["retry-after"] = String(refusal.retryAfter);
  if (refusal.status === 405) headers["allow"] = "POST";
  if (refusal.status === 401) headers["www-authenticate"] = 'Bearer realm="saoe-intake"';
  return json(
    refusal.status,
    { ok: false, error: refusal.message, reason: refusal.reason },
    headers,
  );
}

function withCredential(refusal: IntakeRefusal, credential: string): IntakeRefusal {
  if (refusal.credential !== undefined) return refusal;
  return new IntakeRefusal(refusal.status, refusal.reason, refusal.message, {
    credential,
    ...(refusal.retryAfter !== undefined ? { retryAfter: refusal.retryAfter } : {}),
  });
}

/**
 * Builds the request handler.
 *
 * @example
 * ```ts
 * import { createIntakeHandler } from "./handler.ts";
 * const handler = createIntakeHandler({
 *   tokens: [], port: 8090, clock: { now: () => Date.now() },
 *   limits: { person_per_minute: 10, automation_per_minute: 100, max_queue_depth: 100 },
 *   queueDepth: () => Promise.resolve(0),
 *   accept: () => Promise.reject(new Error("not reached")),
 *   refused: () => Promise.resolve(),
 * });
 * const res = await handler(new Request("http://127.0.0.1:8090/api/submit", { method: "POST" }));
 * if (res.status !== 401) throw new Error();
 * ```
 */
export function createIntakeHandler(
  options: IntakeHandlerOptions,
): (request: Request, info?: Deno.ServeHandlerInfo<Deno.NetAddr>) => Promise<Response> {
  const admission = options.admission ?? createAdmission(options);
  const hosts = new Set([`127.0.0.1:${options.port}`, `localhost:${options.port}`]);

  async function submit(request: Request): Promise<Response> {
    const url = new URL(request.url);
    // first: a page under a rebound name learns nothing, not even which paths exist.
    // Deno.serve builds the URL from Host (or an HTTP/2 :authority)
    const host = request.headers.get("host") ?? url.host;
    if (!hosts.has(host.toLowerCase())) {
      throw new IntakeRefusal(421, "bad_host", "Unexpected Host header");
    }
    if (url.pathname !== SUBMIT_PATH) {
      throw new IntakeRefusal(404, "not_found", "No such endpoint: expected /api/submit");
    }
    if (request.method !== "POST") {
      throw new IntakeRefusal(405, "method_not_allowed", "Method not allowed: expected POST");
    }
    const credential = await authenticate(request.headers.get("authorization"), options.tokens);
    try {
      const release = await admission.admit(credential);
      try {
        const body = await readLimitedBody(request);
        const submission = await parseSubmission(body, request.headers.get("content-type"));
        const accepted = await options.accept(submission, credential);
        return json(200, { ok: true, ...accepted });
      } finally {
        release();
      }
    } catch (err: unknown) {
      if (err instanceof IntakeRefusal) throw withCredential(err, credential.id);
      const message = err instanceof Error ? err.message : String(err);
      console.error(`intake: cannot accept a submission: ${message.slice(0, 500)}`);
      throw new IntakeRefusal(500, "handler_error", "The submission could not be accepted", {
        credential: credential.id,
      });
    }
  }

  return async (request, info) => {
    if (options.pages?.handles(new URL(request.url).pathname)) {
      return await options.pages.serve(request, info?.remoteAddr.hostname ?? "unknown");
    }
    try {
      return await submit(request);
    } catch (err: unknown) {
      const refusal = err instanceof IntakeRefusal
        ? err
        : new IntakeRefusal(500, "handler_error", "The request could not be handled");
      if (!(err instanceof IntakeRefusal)) {
        console.error(
          `intake: ${(err instanceof Error ? err.message : String(err)).slice(0, 500)}`,
        );
      }
      await request.body?.cancel().catch(() => {});
      await options.refused(refusal);
      return refusalResponse(refusal);
    }
  };
}
