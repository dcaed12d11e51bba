/**
 * Reading and checking a submission body: the bytes are counted while they
 * stream in (a body over 45 MiB is refused without being buffered), then parsed
 * as `application/json` `{title, markdown}` or `multipart/form-data` (fields
 * `title`, `markdown` and up to two `images` files), and every limit is checked
 * before the caller writes anything. Unknown fields are refusals, not ignored.
 *
 * @module
 */
import { isSaoeError } from "../../primitives/errors.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { type CheckedImage, checkImage } from "./image_check.ts";
import {
  codePointLength,
  MAX_ARTICLE_PAYLOAD_BYTES,
  MAX_BODY_BYTES,
  MAX_IMAGES,
  MAX_MARKDOWN_CODE_POINTS,
  MAX_TITLE_CODE_POINTS,
} from "./limits.ts";
import { IntakeRefusal } from "./refusal.ts";

/** One checked image and its bytes. */
export interface SubmittedImage extends CheckedImage {
  bytes: Uint8Array<ArrayBuffer>;
}

/** A submission that passed every limit. */
export interface Submission {
  title: string;
  markdown: string;
  images: SubmittedImage[];
}

/** Names a multipart image field may have (`images`, or PHP-style `images[]`). */
export const IMAGE_FIELDS: readonly string[] = ["images", "images[]"];

/**
 * Reads a request body, refusing (413 `size_exceeded`) as soon as it exceeds
 * `maxBytes`, from the declared `Content-Length` or while streaming.
 *
 * @example
 * ```ts
 * import { readLimitedBody } from "./submission.ts";
 * const body = await readLimitedBody(new Request("http://x/", { method: "POST", body: "hi" }), 10);
 * if (body.byteLength !== 2) throw new Error();
 * ```
 */
export async function readLimitedBody(
  request: Request,
  maxBytes: number = MAX_BODY_BYTES,
): Promise<Uint8Array<ArrayBuffer>> {
  const tooBig = () =>
    new IntakeRefusal(
      413,
      "size_exceeded",
      `The request body exceeds ${maxBytes} bytes`,
    );
  const declared = request.headers.get("content-length");
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > maxBytes) {
    await request.body?.cancel().catch(() => {});
    throw tooBig();
  }
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooBig();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

function badField(message: string): IntakeRefusal {
  return new IntakeRefusal(400, "schema", message);
}

function checkText(title: string, markdown: string): void {
  if (!title.isWellFormed() || !markdown.isWellFormed()) {
    throw new IntakeRefusal(400, "parse_error", "The title or markdown contains a lone surrogate");
  }
  const titleLength = codePointLength(title);
  if (titleLength === 0) throw badField("The title is empty: expected 1 to 200 characters");
  if (titleLength > MAX_TITLE_CODE_POINTS) {
    throw new IntakeRefusal(
      413,
      "payload_too_large",
      `The title has ${titleLength} characters: expected at most ${MAX_TITLE_CODE_POINTS}`,
    );
  }
  const bodyLength = codePointLength(markdown);
  if (bodyLength > MAX_MARKDOWN_CODE_POINTS) {
    throw new IntakeRefusal(
      413,
      "payload_too_large",
      `The markdown has ${bodyLength} characters: expected at most ${MAX_MARKDOWN_CODE_POINTS}`,
    );
  }
  // escaped control characters can push the signed payload past the template's byte limit
  const encoded = new TextEncoder().encode(JSON.stringify({ title, markdown, image_count: 2 }));
  if (encoded.byteLength > MAX_ARTICLE_PAYLOAD_BYTES) {
    throw new IntakeRefusal(
      413,
      "payload_too_large",
      `The article encodes to ${encoded.byteLength} bytes: expected at most ${MAX_ARTICLE_PAYLOAD_BYTES}`,
    );
  }
}

function parseJson(body: Uint8Array): Submission {
  let value;
  try {
    value = parseStrictJson(body, { maxBytes: MAX_BODY_BYTES, maxDepth: 2 });
  } catch (err: unknown) {
    if (isSaoeError(err)) throw new IntakeRefusal(400, err.code, err.message);
    throw err;
  }
  for (const key of Object.keys(value)) {
    if (key !== "title" && key !== "markdown") {
      throw badField(
        `Unknown field ${JSON.stringify(key.slice(0, 40))}: expected only title and markdown`,
      );
    }
  }
  const { title, markdown } = value;
  if (typeof title !== "string" || typeof markdown !== "string") {
    throw badField("Expected title and markdown to be strings");
  }
  checkText(title, markdown);
  return { title, markdown, images: [] };
}

async function parseMultipart(body: Uint8Array<ArrayBuffer>, contentType: string) {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { "content-type": contentType } }).formData();
  } catch {
    throw new IntakeRefusal(400, "parse_error", "The multipart body cannot be parsed");
  }
  let title: string | undefined;
  let markdown: string | undefined;
  const files: File[] = [];
  for (const [key, value] of form.entries()) {
    if (key === "title" || key === "markdown") {
      if (typeof value !== "string") throw badField(`Field ${key} must be text, not a file`);
      if ((key === "title" ? title : markdown) !== undefined) {
        throw badField(`Field ${key} appears more than once`);
      }
      if (key === "title") title = value;
      else markdown = value;
    } else if (IMAGE_FIELDS.includes(key)) {
      if (typeof value === "string") throw badField(`Field ${key} must be a file`);
      files.push(value);
    } else {
      throw badField(
        `Unknown field ${
          JSON.stringify(key.slice(0, 40))
        }: expected only title, markdown and images`,
      );
    }
  }
  if (title === undefined || markdown === undefined) {
    throw badField("Expected the fields title and markdown");
  }
  if (files.length > MAX_IMAGES) {
    throw new IntakeRefusal(
      413,
      "payload_too_large",
      `The submission has ${files.length} images: expected at most ${MAX_IMAGES}`,
    );
  }
  checkText(title, markdown);
  const images: SubmittedImage[] = [];
  for (const [index, file] of files.entries()) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    images.push({ ...checkImage(bytes, index), bytes });
  }
  return { title, markdown, images };
}

/**
 * Parses and checks a body by its content type; throws an {@linkcode IntakeRefusal}
 * (415 for any other media type).
 *
 * @example
 * ```ts
 * import { parseSubmission } from "./submission.ts";
 * const body = new TextEncoder().encode('{"title":"Hi","markdown":"# Hi"}');
 * const s = await parseSubmission(body, "application/json");
 * if (s.title !== "Hi" || s.images.length !== 0) throw new Error();
 * ```
 */
export async function parseSubmission(
  body: Uint8Array<ArrayBuffer>,
  contentType: string | null,
): Promise<Submission> {
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType === "application/json") return parseJson(body);
  if (mediaType === "multipart/form-data") return await parseMultipart(body, contentType!);
  throw new IntakeRefusal(
    415,
    "unsupported_media",
    "Unsupported content type: expected application/json or multipart/form-data",
  );
}
