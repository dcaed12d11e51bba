/**
 * Tool `image_sanitize`: turns untrusted JPEG or PNG bytes into a freshly encoded
 * image with no metadata, upright, and no larger than asked.
 *
 * Order matters for safety: the header's declared dimensions are read (image-size)
 * and refused above {@linkcode MAX_PIXELS} or {@linkcode MAX_SIDE} *before* any
 * decoding, because a 200 KB PNG can declare 8000x8000 pixels and cost gigabytes to
 * inflate; jpeg-js is also given its own resolution and memory caps. The EXIF
 * orientation of a JPEG (read from the same header pass by image-size) is applied
 * to the pixels, and the output is encoded from the pixels alone, so no EXIF, XMP,
 * ICC, comment or text chunk survives.
 *
 * This module is loaded by ToolGate inside a Worker with no permissions, from the
 * exact bytes whose SHA-256 the signed tool manifest names: it imports only pinned
 * npm packages, never a relative module.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { imageSize } from "image-size";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";

/** Most pixels a decoded image may have (40 megapixels). */
export const MAX_PIXELS = 40_000_000;
/** Longest side a decoded image may have. */
export const MAX_SIDE = 16384;
/** Largest encoded input accepted, in bytes. */
export const MAX_INPUT_BYTES = 32 * 1024 * 1024;
/** JPEG quality of the re-encoded output. */
export const JPEG_QUALITY = 85;

/** Arguments of the tool. */
export interface ImageArgs {
  format: "jpeg" | "png";
  /** Longest edge of the output in pixels (the image is only ever shrunk). */
  resize_max: number;
}

/** What a tool returns to ToolGate. */
export interface ImageOutput {
  bytes: Uint8Array;
  media_type: "image/jpeg" | "image/png";
  width: number;
  height: number;
}

/** RGBA pixels, 4 bytes per pixel, rows top to bottom. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

function parseArgs(args: unknown): ImageArgs {
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    throw new TypeError("image_sanitize expects args to be an object");
  }
  const record = args as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== "format" && key !== "resize_max") {
      throw new TypeError(`image_sanitize does not take argument ${JSON.stringify(key)}`);
    }
  }
  const { format, resize_max } = record;
  if (format !== "jpeg" && format !== "png") {
    throw new TypeError("image_sanitize expects format to be jpeg or png");
  }
  if (typeof resize_max !== "number" || !Number.isSafeInteger(resize_max) || resize_max < 1) {
    throw new TypeError("image_sanitize expects resize_max to be a positive integer");
  }
  return { format, resize_max };
}

/**
 * Reads the declared dimensions from the header and refuses anything too large or
 * not a JPEG/PNG, without decoding pixels.
 *
 * @example
 * ```ts
 * import { checkHeader } from "./image_sanitize.ts";
 * let refused = false;
 * try { checkHeader(new TextEncoder().encode("not an image")); } catch { refused = true; }
 * if (!refused) throw new Error();
 * ```
 */
export function checkHeader(
  input: Uint8Array,
): { type: "jpg" | "png"; width: number; height: number } {
  const { type, width, height } = readHeader(input);
  return { type, width, height };
}

/** {@linkcode checkHeader}, plus the EXIF orientation a JPEG header declares (1 when none). */
function readHeader(
  input: Uint8Array,
): { type: "jpg" | "png"; width: number; height: number; orientation: number } {
  const size = imageSize(input);
  if (size.type !== "jpg" && size.type !== "png") {
    throw new TypeError(`Image type ${JSON.stringify(size.type)} is not jpg or png`);
  }
  const { width, height } = size;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new RangeError("Image header declares no valid dimensions");
  }
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw new RangeError(
      `Image header declares ${width}x${height}: expected at most ${MAX_SIDE} per side and ${MAX_PIXELS} pixels`,
    );
  }
  // PNG eXIf orientation is ignored by most viewers; only JPEG EXIF is applied
  const orientation = size.type === "jpg" && typeof size.orientation === "number"
    ? size.orientation
    : 1;
  return { type: size.type, width, height, orientation };
}

function decode(input: Uint8Array, type: "jpg" | "png"): Rgba {
  if (type === "jpg") {
    const img = jpeg.decode(input, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxResolutionInMP: MAX_PIXELS / 1_000_000,
      maxMemoryUsageInMB: 512,
    });
    return { width: img.width, height: img.height, data: img.data };
  }
  const png = PNG.sync.read(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
  return {
    width: png.width,
    height: png.height,
    data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
  };
}

/**
 * Applies an EXIF orientation (1-8) to RGBA pixels; 5-8 swap width and height.
 *
 * @example
 * ```ts
 * import { applyOrientation } from "./image_sanitize.ts";
 * const img = { width: 2, height: 1, data: new Uint8Array([1, 1, 1, 1, 2, 2, 2, 2]) };
 * const out = applyOrientation(img, 6);
 * if (out.width !== 1 || out.height !== 2 || out.data[0] !== 1) throw new Error();
 * ```
 */
export function applyOrientation(img: Rgba, orientation: number): Rgba {
  if (!Number.isInteger(orientation) || orientation < 2 || orientation > 8) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(ow * oh * 4);
  for (let dy = 0; dy < oh; dy++) {
    for (let dx = 0; dx < ow; dx++) {
      let sx: number, sy: number;
      switch (orientation) {
        case 2:
          sx = w - 1 - dx;
          sy = dy;
          break;
        case 3:
          sx = w - 1 - dx;
          sy = h - 1 - dy;
          break;
        case 4:
          sx = dx;
          sy = h - 1 - dy;
          break;
        case 5:
          sx = dy;
          sy = dx;
          break;
        case 6:
          sx = dy;
          sy = h - 1 - dx;
          break;
        case 7:
          sx = w - 1 - dy;
          sy = h - 1 - dx;
          break;
        default:
          sx = w - 1 - dy;
          sy = dx;
          break; // 8
      }
      const s = (sy * w + sx) * 4;
      const d = (dy * ow + dx) * 4;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
      out[d + 3] = data[s + 3]!;
    }
  }
  return { width: ow, height: oh, data: out };
}

/**
 * Shrinks so that the long edge is at most `max` (area average); never enlarges.
 *
 * @example
 * ```ts
 * import { downscale } from "./image_sanitize.ts";
 * const img = { width: 4, height: 2, data: new Uint8Array(32).fill(200) };
 * const out = downscale(img, 2);
 * if (out.width !== 2 || out.height !== 1 || out.data[0] !== 200) throw new Error();
 * ```
 */
export function downscale(img: Rgba, max: number): Rgba {
  const { width: w, height: h, data } = img;
  const long = Math.max(w, h);
  if (long <= max) return img;
  const scale = max / long;
  const ow = Math.max(1, Math.min(max, Math.round(w * scale)));
  const oh = Math.max(1, Math.min(max, Math.round(h * scale)));
  const out = new Uint8Array(ow * oh * 4);
  for (let dy = 0; dy < oh; dy++) {
    const y0 = Math.floor((dy * h) / oh);
    const y1 = Math.max(y0 + 1, Math.floor(((dy + 1) * h) / oh));
    for (let dx = 0; dx < ow; dx++) {
      const x0 = Math.floor((dx * w) / ow);
      const x1 = Math.max(x0 + 1, Math.floor(((dx + 1) * w) / ow));
      let r = 0, g = 0, b = 0, a = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const s = (y * w + x) * 4;
          r += data[s]!;
          g += data[s + 1]!;
          b += data[s + 2]!;
          a += data[s + 3]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const d = (dy * ow + dx) * 4;
      out[d] = Math.round(r / n);
      out[d + 1] = Math.round(g / n);
      out[d + 2] = Math.round(b / n);
      out[d + 3] = Math.round(a / n);
    }
  }
  return { width: ow, height: oh, data: out };
}

function flattenOnWhite(img: Rgba): Rgba {
  const out = new Uint8Array(img.data.byteLength);
  for (let i = 0; i < out.byteLength; i += 4) {
    const a = img.data[i + 3]!;
    out[i] = Math.round((img.data[i]! * a + 255 * (255 - a)) / 255);
    out[i + 1] = Math.round((img.data[i + 1]! * a + 255 * (255 - a)) / 255);
    out[i + 2] = Math.round((img.data[i + 2]! * a + 255 * (255 - a)) / 255);
    out[i + 3] = 255;
  }
  return { width: img.width, height: img.height, data: out };
}

function encode(img: Rgba, format: "jpeg" | "png"): Uint8Array {
  if (format === "jpeg") {
    // only width, height and pixels: jpeg-js writes APP1 solely from an `exifBuffer` field
    const flat = flattenOnWhite(img);
    const encoded = jpeg.encode(
      { width: flat.width, height: flat.height, data: flat.data },
      JPEG_QUALITY,
    );
    return new Uint8Array(encoded.data.buffer, encoded.data.byteOffset, encoded.data.byteLength);
  }
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const encoded = PNG.sync.write(png);
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/**
 * Tool entry point: `args` is `{format, resize_max}`, `input` the JPEG or PNG bytes.
 *
 * @example
 * ```ts
 * import { run } from "./image_sanitize.ts";
 * import { PNG } from "pngjs";
 * const png = new PNG({ width: 4, height: 2 });
 * png.data.fill(255);
 * const out = await run({ format: "png", resize_max: 2 }, new Uint8Array(PNG.sync.write(png)));
 * if (out.width !== 2 || out.height !== 1 || out.media_type !== "image/png") throw new Error();
 * ```
 */
export function run(args: unknown, input: Uint8Array): Promise<ImageOutput> {
  try {
    return Promise.resolve(sanitize(args, input));
  } catch (err: unknown) {
    return Promise.reject(err);
  }
}

function sanitize(args: unknown, input: Uint8Array): ImageOutput {
  const { format, resize_max } = parseArgs(args);
  if (input.byteLength > MAX_INPUT_BYTES) {
    throw new RangeError(`Image input of ${input.byteLength} bytes exceeds ${MAX_INPUT_BYTES}`);
  }
  const header = readHeader(input);
  const decoded = decode(input, header.type);
  if (decoded.width !== header.width || decoded.height !== header.height) {
    throw new RangeError("Decoded image dimensions differ from the header's");
  }
  if (decoded.data.byteLength !== decoded.width * decoded.height * 4) {
    throw new RangeError("Decoded image has an unexpected pixel buffer size");
  }
  const upright = applyOrientation(decoded, header.orientation);
  const sized = downscale(upright, resize_max);
  return {
    bytes: encode(sized, format),
    media_type: format === "jpeg" ? "image/jpeg" : "image/png",
    width: sized.width,
    height: sized.height,
  };
}
