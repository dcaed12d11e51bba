/**
 * What intake accepts as an image: a JPEG or PNG by its magic bytes (never by the
 * client's file name or content type), at most 20 MiB, whose header declares
 * dimensions within 40 megapixels. Only the header is read (image-size): a small
 * file declaring a huge canvas would cost gigabytes to decode, so it is refused
 * here and again, before decoding, by the `image_sanitize` tool.
 *
 * @module
 */
import { imageSize } from "image-size";
import { MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS } from "./limits.ts";
import { IntakeRefusal } from "./refusal.ts";

/** An image that passed the checks. */
export interface CheckedImage {
  /** File extension of the staged file. */
  ext: "jpg" | "png";
  mediaType: "image/jpeg" | "image/png";
  width: number;
  height: number;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.byteLength >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/**
 * Checks one image (`index` counts from 0 and names it in messages); throws a
 * refusal: 413 `size_exceeded` when too big in bytes or pixels, 415 `unsupported_media`
 * when it is not a well-formed JPEG or PNG header.
 *
 * @example
 * ```ts
 * import { checkImage } from "./image_check.ts";
 * const png = new Uint8Array(33);
 * png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
 * new DataView(png.buffer).setUint32(16, 640);
 * new DataView(png.buffer).setUint32(20, 480);
 * const image = checkImage(png, 0);
 * if (image.ext !== "png" || image.width !== 640) throw new Error();
 * ```
 */
export function checkImage(bytes: Uint8Array, index: number): CheckedImage {
  const name = `Image ${index + 1}`;
  if (bytes.byteLength > MAX_IMAGE_BYTES) {
    throw new IntakeRefusal(
      413,
      "size_exceeded",
      `${name} is ${bytes.byteLength} bytes: expected at most ${MAX_IMAGE_BYTES}`,
    );
  }
  const kind = startsWith(bytes, PNG_MAGIC) ? "png" : startsWith(bytes, JPEG_MAGIC) ? "jpg" : null;
  if (kind === null) {
    throw new IntakeRefusal(415, "unsupported_media", `${name} is not a JPEG or PNG file`);
  }
  let size: { type?: string; width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch {
    throw new IntakeRefusal(415, "unsupported_media", `${name} has no readable ${kind} header`);
  }
  const { width, height } = size;
  if (
    size.type !== kind || width === undefined || height === undefined ||
    !Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1
  ) {
    throw new IntakeRefusal(415, "unsupported_media", `${name} has no valid ${kind} dimensions`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new IntakeRefusal(
      413,
      "size_exceeded",
      `${name} declares ${width}x${height} pixels: expected at most ${MAX_IMAGE_PIXELS}`,
    );
  }
  return kind === "png"
    ? { ext: "png", mediaType: "image/png", width, height }
    : { ext: "jpg", mediaType: "image/jpeg", width, height };
}
