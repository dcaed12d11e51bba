/**
 * Reading the web form's POST bodies. Login and logout are small
 * `application/x-www-form-urlencoded` bodies (at most 4 KiB, known fields only).
 * The article form is `multipart/form-data` read within the API's body limit;
 * its CSRF token is taken out, empty file inputs (a browser sends one for each
 * file field left blank) are dropped, and the rest is re-encoded and checked by
 * the API's own {@linkcode parseSubmission}, so both front doors enforce exactly
 * the same limits.
 *
 * @module
 */
import { IntakeRefusal } from "../refusal.ts";
import { IMAGE_FIELDS, parseSubmission, readLimitedBody, type Submission } from "../submission.ts";

/** Largest login or logout body, in bytes. */
export const MAX_SMALL_FORM_BYTES = 4096;

/** The form fields a refusal message can belong to. */
export type FormField = "title" | "markdown" | "images" | "form";

function mediaTypeOf(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * Reads a url-encoded form with exactly the fields `names` (each at most once).
 *
 * @example
 * ```ts
 * import { readSmallForm } from "./form.ts";
 * const request = new Request("http://127.0.0.1/login", {
 *   method: "POST",
 *   headers: { "content-type": "application/x-www-form-urlencoded" },
 *   body: "credential=abc",
 * });
 * const form = await readSmallForm(request, ["credential"]);
 * if (form.get("credential") !== "abc") throw new Error();
 * ```
 */
export async function readSmallForm(
  request: Request,
  names: readonly string[],
): Promise<Map<string, string>> {
  if (mediaTypeOf(request) !== "application/x-www-form-urlencoded") {
    await request.body?.cancel().catch(() => {});
    throw new IntakeRefusal(
      415,
      "unsupported_media",
      "Unsupported content type: expected application/x-www-form-urlencoded",
    );
  }
  const body = await readLimitedBody(request, MAX_SMALL_FORM_BYTES);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(body);
  const out = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(text)) {
    if (!names.includes(key) || out.has(key)) {
      throw new IntakeRefusal(400, "schema", "The form has an unexpected or repeated field");
    }
    out.set(key, value);
  }
  return out;
}

/** The article form as posted, before its checks. */
export interface PostedArticle {
  /** The CSRF token field, if any. */
  csrf: string | undefined;
  /** The title and markdown as typed (for re-rendering the form after an error). */
  title: string;
  markdown: string;
  /** Runs every API check on the fields and images (throws an `IntakeRefusal`). */
  parse(): Promise<Submission>;
}

/**
 * Reads the multipart article form (413 over the body limit, 415 for another
 * media type, 400 when it cannot be parsed).
 *
 * @example
 * ```ts
 * import { readArticleForm } from "./form.ts";
 * const data = new FormData();
 * data.set("csrf", "t");
 * data.set("title", "Hi");
 * data.set("markdown", "# Hi");
 * data.append("images", new File([], ""));
 * const posted = await readArticleForm(new Request("http://x/", { method: "POST", body: data }));
 * const submission = await posted.parse();
 * if (posted.csrf !== "t" || submission.images.length !== 0) throw new Error();
 * ```
 */
export async function readArticleForm(request: Request): Promise<PostedArticle> {
  const contentType = request.headers.get("content-type");
  if (mediaTypeOf(request) !== "multipart/form-data") {
    await request.body?.cancel().catch(() => {});
    throw new IntakeRefusal(
      415,
      "unsupported_media",
      "Unsupported content type: expected multipart/form-data",
    );
  }
  const body = await readLimitedBody(request);
  let form: FormData;
  try {
    form = await new Response(body, { headers: { "content-type": contentType! } }).formData();
  } catch {
    throw new IntakeRefusal(400, "parse_error", "The form body cannot be parsed");
  }
  let csrf: string | undefined;
  const rest = new FormData();
  for (const [key, value] of form.entries()) {
    if (key === "csrf") {
      if (typeof value !== "string" || csrf !== undefined) {
        throw new IntakeRefusal(400, "schema", "The form has a malformed CSRF field");
      }
      csrf = value;
    } else if (
      IMAGE_FIELDS.includes(key) && typeof value !== "string" && value.size === 0 &&
      value.name === ""
    ) {
      // a file input left empty
    } else {
      rest.append(key, value);
    }
  }
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === "string" ? value : "";
  };
  return {
    csrf,
    title: text("title"),
    markdown: text("markdown"),
    async parse() {
      const encoded = new Request("http://intake.invalid/", { method: "POST", body: rest });
      return await parseSubmission(
        new Uint8Array(await encoded.arrayBuffer()),
        encoded.headers.get("content-type"),
      );
    },
  };
}

/**
 * The form field a refusal of {@linkcode parseSubmission} is about, so the
 * message can be shown next to it.
 *
 * @example
 * ```ts
 * import { fieldOf } from "./form.ts";
 * import { IntakeRefusal } from "../refusal.ts";
 * const r = new IntakeRefusal(415, "unsupported_media", "Image 1 is not a JPEG or PNG file");
 * if (fieldOf(r) !== "images") throw new Error();
 * ```
 */
export function fieldOf(refusal: IntakeRefusal): FormField {
  const message = refusal.message;
  if (/^Image [0-9]/.test(message) || /\bimages\b/.test(message)) return "images";
  if (/^The title (is|has)\b/.test(message)) return "title";
  if (/^The (markdown|article)\b/.test(message)) return "markdown";
  return "form";
}
