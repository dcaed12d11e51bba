/**
 * Typed readers of the pipeline payloads the planner, text_formatter, image_filter
 * and deployment act on. The validator already checked each payload against its
 * template's JSON Schema (step 11); these decoders give the handlers typed values
 * and re-state the limits a handler relies on (file names, digests, indexes), so
 * a handler never trusts a field the schema might one day loosen.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { type Decoded, type Decoder, int, obj, oneOf, str } from "../../primitives/json/decode.ts";
import { sha256HexId } from "../../primitives/ids/patterns.ts";

/** An image name in `uploads/` or `media/`: `<sha256>.jpg` or `<sha256>.png`. */
export const IMAGE_FILE_RE = /^[0-9a-f]{64}\.(jpg|png)$/;
/** Most images one article may carry. */
export const MAX_IMAGES = 2;
/** Longest article HTML a `formatted_article` may carry (template limit, in UTF-16 units). */
export const MAX_ARTICLE_HTML = 2_097_152;

/** The image media types the pipeline handles. */
export type ImageMediaType = "image/jpeg" | "image/png";

const mediaType = oneOf(["image/jpeg", "image/png"] as const);
const imageFile = str({ pattern: IMAGE_FILE_RE, maxLength: 68, code: "bad_identifier" });
const title = str({ maxLength: 200 });
const imageCount = int(0, MAX_IMAGES);
const imageIndex = int(0, MAX_IMAGES - 1);
const plan = str({ maxLength: 65536 });

/** `blog_article_intent`: the article as intake accepted it. */
export const blogArticleIntent = obj({
  title,
  markdown: str({ maxLength: 200_000 }),
  image_count: imageCount,
});
/** `image_process_intent`: one staged upload to sanitise. */
export const imageProcessIntent = obj({
  upload_file: imageFile,
  sha256: sha256HexId,
  media_type: mediaType,
  index: imageIndex,
});
/** `text_format_plan`: the article plus the planner's signed plan (DSSE JSON text). */
export const textFormatPlan = obj({
  title,
  markdown: str({ maxLength: 200_000 }),
  image_count: imageCount,
  plan,
});
/** `image_filter_plan`: one staged upload plus the planner's signed plan. */
export const imageFilterPlan = obj({
  upload_file: imageFile,
  sha256: sha256HexId,
  media_type: mediaType,
  index: imageIndex,
  plan,
});
/** `formatted_article`: sanitised HTML and how many images deployment waits for. */
export const formattedArticle = obj({
  title,
  html: str({ maxLength: MAX_ARTICLE_HTML }),
  image_count: imageCount,
});
/** `sanitized_image`: one sanitised image in `media/<session>/`, named by its SHA-256. */
export const sanitizedImage = obj({
  file: imageFile,
  sha256: sha256HexId,
  media_type: mediaType,
  width: int(1, 8192),
  height: int(1, 8192),
  index: imageIndex,
});

/** A decoded `blog_article_intent`. */
export type BlogArticleIntent = Decoded<typeof blogArticleIntent>;
/** A decoded `image_process_intent`. */
export type ImageProcessIntent = Decoded<typeof imageProcessIntent>;
/** A decoded `text_format_plan`. */
export type TextFormatPlan = Decoded<typeof textFormatPlan>;
/** A decoded `image_filter_plan`. */
export type ImageFilterPlan = Decoded<typeof imageFilterPlan>;
/** A decoded `formatted_article`. */
export type FormattedArticle = Decoded<typeof formattedArticle>;
/** A decoded `sanitized_image`. */
export type SanitizedImage = Decoded<typeof sanitizedImage>;

/**
 * Decodes a payload with `decoder`, naming the template in the refusal.
 *
 * @example
 * ```ts
 * import { formattedArticle, readPayload } from "./payloads.ts";
 * const a = readPayload(formattedArticle, { title: "T", html: "<p>x</p>", image_count: 0 }, "formatted_article");
 * if (a.image_count !== 0) throw new Error();
 * ```
 */
export function readPayload<T>(decoder: Decoder<T>, payload: unknown, template: string): T {
  try {
    return decoder(payload, "$.payload");
  } catch (err: unknown) {
    if (err instanceof SaoeError) {
      throw new SaoeError(err.code, `Invalid ${template} payload: ${err.message}`, {}, {
        cause: err,
      });
    }
    throw err;
  }
}

/** The file extension of an image media type (`jpg` or `png`). */
export function imageExtension(mediaType: ImageMediaType): "jpg" | "png" {
  return mediaType === "image/jpeg" ? "jpg" : "png";
}

/**
 * The content-addressed name of a sanitised image: `<sha256>.<ext>`.
 *
 * @example
 * ```ts
 * import { mediaFileName } from "./payloads.ts";
 * if (mediaFileName("ab".repeat(32), "image/png") !== `${"ab".repeat(32)}.png`) throw new Error();
 * ```
 */
export function mediaFileName(sha256: string, mediaType: ImageMediaType): string {
  return `${sha256}.${imageExtension(mediaType)}`;
}
