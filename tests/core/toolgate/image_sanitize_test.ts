import assert from "node:assert/strict";
import { checkHeader, run } from "../../../core/domain/toolgate/tools/image_sanitize.ts";
import {
  craftedPngHeader,
  decodeJpeg,
  decodePng,
  jpegMarkers,
  makeJpeg,
  makePng,
  pngChunks,
  withExifOrientation,
} from "./_images.ts";

const RED: [number, number, number, number] = [255, 0, 0, 255];
const BLUE: [number, number, number, number] = [0, 0, 255, 255];

function at(img: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return [...img.data.subarray(i, i + 4)];
}

function near(actual: number[], expected: number[]): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= 24);
}

Deno.test("image_sanitize rotates a JPEG with EXIF orientation 6 and drops the EXIF", async () => {
  // 32x16: left half red, right half blue; orientation 6 means "rotate 90° clockwise to view"
  const input = withExifOrientation(makeJpeg(32, 16, (x) => x < 16 ? RED : BLUE), 6);
  assert.ok(jpegMarkers(input).includes(0xe1), "the fixture carries an APP1 segment");
  const out = await run({ format: "jpeg", resize_max: 1024 }, input);
  assert.deepEqual([out.width, out.height, out.media_type], [16, 32, "image/jpeg"]);
  assert.ok(!jpegMarkers(out.bytes).includes(0xe1), "no APP1 (EXIF) segment may remain");
  const img = decodeJpeg(out.bytes);
  assert.deepEqual([img.width, img.height], [16, 32]);
  // the left (red) half of the stored image is the top of the upright one
  assert.ok(near(at(img, 8, 4), RED), `top is ${at(img, 8, 4)}`);
  assert.ok(near(at(img, 8, 28), BLUE), `bottom is ${at(img, 8, 28)}`);
});

Deno.test("image_sanitize turns an RGBA PNG into a JPEG flattened onto white", async () => {
  const input = makePng(20, 10, (x) => x < 10 ? RED : [0, 0, 0, 0]);
  const out = await run({ format: "jpeg", resize_max: 100 }, input);
  assert.deepEqual([out.width, out.height, out.media_type], [20, 10, "image/jpeg"]);
  const img = decodeJpeg(out.bytes);
  assert.ok(near(at(img, 3, 5), RED));
  assert.ok(near(at(img, 17, 5), [255, 255, 255, 255]), `transparent became ${at(img, 17, 5)}`);
});

Deno.test("image_sanitize re-encodes a PNG with only its image chunks", async () => {
  const out = await run({ format: "png", resize_max: 64 }, makePng(8, 8, () => BLUE));
  assert.equal(out.media_type, "image/png");
  assert.deepEqual(pngChunks(out.bytes).filter((c) => c !== "IDAT"), ["IHDR", "IEND"]);
  assert.deepEqual(at(decodePng(out.bytes), 4, 4), BLUE);
});

Deno.test("image_sanitize refuses a small PNG declaring 20000x20000 before decoding it", async () => {
  const bomb = craftedPngHeader(20000, 20000);
  assert.ok(bomb.byteLength < 2048);
  await assert.rejects(
    run({ format: "png", resize_max: 512 }, bomb),
    /header declares 20000x20000/,
  );
  // too many pixels with both sides allowed, and one side too long
  assert.throws(() => checkHeader(craftedPngHeader(8000, 8000)), /8000x8000/);
  assert.throws(() => checkHeader(craftedPngHeader(16385, 10)), /16385x10/);
  assert.deepEqual(checkHeader(craftedPngHeader(6000, 6000)), {
    type: "png",
    width: 6000,
    height: 6000,
  });
});

Deno.test("image_sanitize shrinks the long edge to resize_max and never enlarges", async () => {
  const input = makePng(300, 120, (x) => x < 150 ? RED : BLUE);
  const out = await run({ format: "png", resize_max: 100 }, input);
  assert.deepEqual([out.width, out.height], [100, 40]);
  const img = decodePng(out.bytes);
  assert.deepEqual([img.width, img.height], [100, 40]);
  assert.deepEqual(at(img, 10, 20), RED);
  assert.deepEqual(at(img, 90, 20), BLUE);
  const small = await run({ format: "png", resize_max: 1000 }, input);
  assert.deepEqual([small.width, small.height], [300, 120]);
});

Deno.test("image_sanitize refuses bad arguments and non-image input", async () => {
  const png = makePng(4, 4, () => RED);
  await assert.rejects(run({ format: "gif", resize_max: 10 }, png), TypeError);
  await assert.rejects(run({ format: "png", resize_max: 0 }, png), TypeError);
  await assert.rejects(run({ format: "png", resize_max: 10, extra: 1 }, png), TypeError);
  await assert.rejects(run({ format: "png", resize_max: 10 }, new TextEncoder().encode("GIF89a")));
});
