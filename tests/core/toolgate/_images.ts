/**
 * Test images made with code (no downloaded files): JPEGs with an EXIF orientation,
 * RGBA PNGs, and a crafted PNG whose header declares huge dimensions.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { deflateSync } from "node:zlib";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { pngChunk } from "../../../core/devtools/attack/png.ts";
import { concatBytes } from "../../../core/primitives/crypto/bytes.ts";

/** A pixel colour. */
export type Rgba = [number, number, number, number];

/** Fills a `width` x `height` RGBA buffer from `pixel(x, y)`. */
export function pixels(
  width: number,
  height: number,
  pixel: (x: number, y: number) => Rgba,
): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4);
  }
  return data;
}

/** Encodes RGBA pixels as a baseline JPEG (alpha ignored). */
export function makeJpeg(
  width: number,
  height: number,
  pixel: (x: number, y: number) => Rgba,
): Uint8Array {
  const out = jpeg.encode({ width, height, data: pixels(width, height, pixel) }, 95);
  return new Uint8Array(out.data);
}

/** Encodes RGBA pixels as a PNG. */
export function makePng(
  width: number,
  height: number,
  pixel: (x: number, y: number) => Rgba,
): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(pixels(width, height, pixel));
  return new Uint8Array(PNG.sync.write(png));
}

/** Inserts an APP1 Exif segment with one IFD0 entry, Orientation = `orientation`. */
export function withExifOrientation(jpegBytes: Uint8Array, orientation: number): Uint8Array {
  const tiff = [
    0x4d,
    0x4d,
    0x00,
    0x2a,
    0x00,
    0x00,
    0x00,
    0x08, // big-endian TIFF, IFD0 at 8
    0x00,
    0x01, // one entry
    0x01,
    0x12,
    0x00,
    0x03,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    orientation,
    0x00,
    0x00, // Orientation SHORT
    0x00,
    0x00,
    0x00,
    0x00, // no next IFD
  ];
  const payload = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00, ...tiff]; // "Exif\0\0"
  const length = payload.length + 2;
  const app1 = [0xff, 0xe1, length >> 8, length & 0xff, ...payload];
  const out = new Uint8Array(jpegBytes.byteLength + app1.length);
  out.set(jpegBytes.subarray(0, 2)); // SOI
  out.set(app1, 2);
  out.set(jpegBytes.subarray(2), 2 + app1.length);
  return out;
}

/** Markers of the JPEG segments before the scan (e.g. 0xe0 for APP0, 0xe1 for APP1). */
export function jpegMarkers(bytes: Uint8Array): number[] {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error("not a JPEG");
  const markers: number[] = [];
  let at = 2;
  while (at + 4 <= bytes.byteLength) {
    if (bytes[at] !== 0xff) throw new Error(`bad JPEG segment at ${at}`);
    const marker = bytes[at + 1]!;
    markers.push(marker);
    if (marker === 0xda) break; // start of scan: entropy-coded data follows
    at += 2 + ((bytes[at + 2]! << 8) | bytes[at + 3]!);
  }
  return markers;
}

/** Decodes a JPEG to RGBA. */
export function decodeJpeg(bytes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
}

/** Decodes a PNG to RGBA. */
export function decodePng(bytes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

/** Names of the PNG chunks, in order. */
export function pngChunks(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const names: string[] = [];
  for (let at = 8; at + 8 <= bytes.byteLength;) {
    const length = view.getUint32(at);
    names.push(new TextDecoder().decode(bytes.subarray(at + 4, at + 8)));
    at += 12 + length;
  }
  return names;
}

/**
 * A small PNG (a few hundred bytes) whose IHDR declares `width` x `height` RGBA
 * pixels: a decompression bomb if anything decodes it.
 */
export function craftedPngHeader(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const idat = new Uint8Array(deflateSync(new Uint8Array(64 * 1024)));
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", idat),
    pngChunk("IEND", new Uint8Array()),
  ];
  return concatBytes(...parts);
}
