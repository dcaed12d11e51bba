/**
 * The limits intake enforces on a submission before anything is written
 * (docs/design.md section 8, "Intake API"): they match the `blog_article_intent` and
 * `image_process_intent` templates, so a submission intake accepts is one the
 * downstream validators accept too, and a client learns of a limit at the door
 * rather than from a dead-letter entry later.
 *
 * @module
 */

/** Most code points in a title (the template's `maxLength`). */
export const MAX_TITLE_CODE_POINTS = 200;
/** Most code points in the markdown body (the template's `maxLength`). */
export const MAX_MARKDOWN_CODE_POINTS = 200_000;
/** Most images per submission (the template's `image_count` maximum). */
export const MAX_IMAGES = 2;
/** Largest image file, in bytes (20 MiB). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** Most pixels an image header may declare (40 megapixels), checked before any decoding. */
export const MAX_IMAGE_PIXELS = 40_000_000;
/** Largest request body, in bytes (45 MiB: two full images plus the text and framing). */
export const MAX_BODY_BYTES = 45 * 1024 * 1024;
/** Largest JSON-encoded `blog_article_intent` payload (the template's `max_payload_bytes`). */
export const MAX_ARTICLE_PAYLOAD_BYTES = 1024 * 1024;
/** `Retry-After` seconds when the queue is full (it drains at pipeline speed). */
export const QUEUE_FULL_RETRY_SECONDS = 5;

/**
 * Length of a string in Unicode code points (what JSON Schema's `maxLength`
 * counts), not UTF-16 units.
 *
 * @example
 * ```ts
 * import { codePointLength } from "./limits.ts";
 * if (codePointLength("a😀") !== 2) throw new Error();
 * ```
 */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
