/**
 * The client side of the intake API (used by `saoe submit`): one authenticated
 * `POST /api/submit`, JSON without images or multipart with them, and the
 * answer decoded strictly. A refusal is a value, not an exception, so the caller
 * can show the server's reason; only an unreachable intake throws.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { parseStrictJsonText } from "../../primitives/json/strict_parse.ts";
import { SUBMIT_PATH } from "./handler.ts";

/** Where `saoe submit` finds intake unless told otherwise. */
export const DEFAULT_INTAKE_URL = "http://127.0.0.1:8090";

/** One image file to send. */
export interface ClientImage {
  /** File name shown to the server (it decides the type by content, not by name). */
  name: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/** Options for {@linkcode submitArticle}. */
export interface SubmitArticleOptions {
  /** Base URL of intake, e.g. `http://127.0.0.1:8090`. */
  url: string;
  /** The operator credential (sent as a bearer token, never logged). */
  credential: string;
  title: string;
  markdown: string;
  images?: readonly ClientImage[];
  /** Give up after this many milliseconds; default 60 s. */
  timeoutMs?: number;
}

/** What intake answered. */
export type SubmitAnswer =
  | { ok: true; status: number; session_id: string; image_count: number }
  | {
    ok: false;
    status: number;
    error: string;
    reason: string;
    /** Seconds from `Retry-After`, when given. */
    retry_after?: number;
  };

function decodeAnswer(status: number, text: string, retryAfter: string | null): SubmitAnswer {
  let value: Record<string, unknown>;
  try {
    value = parseStrictJsonText(text, { maxBytes: 64 * 1024 });
  } catch {
    return {
      ok: false,
      status,
      error: `Unexpected answer (HTTP ${status})`,
      reason: "parse_error",
    };
  }
  if (
    value.ok === true && status === 200 && typeof value.session_id === "string" &&
    typeof value.image_count === "number"
  ) {
    return { ok: true, status, session_id: value.session_id, image_count: value.image_count };
  }
  const retry = retryAfter !== null && /^[0-9]{1,6}$/.test(retryAfter)
    ? Number(retryAfter)
    : undefined;
  return {
    ok: false,
    status,
    error: typeof value.error === "string" ? value.error : `HTTP ${status}`,
    reason: typeof value.reason === "string" ? value.reason : "parse_error",
    ...(retry !== undefined ? { retry_after: retry } : {}),
  };
}

/**
 * Sends one article to intake and returns its answer; throws `io_error` when
 * intake cannot be reached.
 *
 * @example
 * ```ts ignore
 * const answer = await submitArticle({ url: DEFAULT_INTAKE_URL, credential, title: "Hi", markdown: "# Hi" });
 * if (answer.ok) console.log(answer.session_id);
 * ```
 */
export async function submitArticle(options: SubmitArticleOptions): Promise<SubmitAnswer> {
  const images = options.images ?? [];
  let body: BodyInit;
  const headers: Record<string, string> = { authorization: `Bearer ${options.credential}` };
  if (images.length === 0) {
    body = JSON.stringify({ title: options.title, markdown: options.markdown });
    headers["content-type"] = "application/json";
  } else {
    const form = new FormData();
    form.append("title", options.title);
    form.append("markdown", options.markdown);
    for (const image of images) form.append("images", new Blob([image.bytes]), image.name);
    body = form;
  }
  const target = new URL(SUBMIT_PATH, options.url);
  let response: Response;
  try {
    response = await fetch(target, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
  } catch (err: unknown) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SaoeError(
      "io_error",
      `Cannot reach intake at ${target.origin}: ${
        why.slice(0, 200)
      }; is \`deno task pipeline\` running?`,
    );
  }
  const text = await response.text();
  return decodeAnswer(response.status, text, response.headers.get("retry-after"));
}
