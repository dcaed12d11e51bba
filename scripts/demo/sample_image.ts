/**
 * The sample photo the demo and the README's examples submit, and smaller ones
 * for tests: a JPEG with a colour gradient and a disc, made in code. The shipped
 * file `scripts/demo/sample_photo.jpg` is exactly `sampleJpeg()` (a test keeps
 * it so; regenerate it with `deno run -A scripts/demo/sample_image.ts`).
 *
 * @module
 */
import jpeg from "jpeg-js";

/**
 * Encodes a `width`×`height` JPEG test picture.
 *
 * @example
 * ```ts
 * import { sampleJpeg } from "./sample_image.ts";
 * const bytes = sampleJpeg(64, 48);
 * if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error("not a JPEG");
 * ```
 */
export function sampleJpeg(width = 1600, height = 1200): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(width * height * 4);
  const cx = width / 2;
  const cy = height / 2;
  const r = Math.min(width, height) / 4;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const inCircle = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
      data[i] = inCircle ? 250 : Math.round((x / width) * 255);
      data[i + 1] = inCircle ? 200 : Math.round((y / height) * 255);
      data[i + 2] = inCircle ? 40 : 160;
      data[i + 3] = 255;
    }
  }
  const encoded = jpeg.encode({ data, width, height }, 85);
  return new Uint8Array(encoded.data);
}

/** The shipped sample photo, repository-relative: 1600×1200, `sampleJpeg()`'s bytes. */
export const SAMPLE_PHOTO = "scripts/demo/sample_photo.jpg";

if (import.meta.main) {
  await Deno.writeFile(new URL("./sample_photo.jpg", import.meta.url), sampleJpeg());
}
