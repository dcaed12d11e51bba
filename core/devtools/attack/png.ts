/**
 * Hand-built PNG files for the attacks: a small valid image (so a followed link
 * or an accepted upload is visibly processed) and a decompression bomb whose
 * header declares a huge canvas over a tiny, highly compressed body. Built here
 * with CRC-32 and the platform's zlib stream, not an image library, so the bytes
 * are exactly what the attack says they are.
 *
 * @module
 */
import { concatBytes } from "../../primitives/crypto/bytes.ts";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * One PNG chunk: length, type, data and CRC-32 (the one place SAOE builds PNG
 * bytes by hand, for attacks and for tests).
 *
 * @example
 * ```ts
 * import { pngChunk } from "./png.ts";
 * if (pngChunk("IEND", new Uint8Array()).byteLength !== 12) throw new Error();
 * ```
 */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.byteLength);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.byteLength, crc32(out.subarray(4, 8 + data.byteLength)));
  return out;
}

async function zlib(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function ihdr(width: number, height: number): Uint8Array {
  const data = new Uint8Array(13);
  const view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data[8] = 8; // bit depth
  data[9] = 2; // RGB
  return pngChunk("IHDR", data);
}

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A valid RGB PNG of `width`×`height` pixels filled with one colour.
 *
 * @example
 * ```ts
 * import { solidPng } from "./png.ts";
 * const png = await solidPng(4, 3);
 * if (png[1] !== 0x50 || new DataView(png.buffer).getUint32(16) !== 4) throw new Error();
 * ```
 */
export async function solidPng(width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
  const row = 1 + width * 3;
  const raw = new Uint8Array(row * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set([200, 60, 40], y * row + 1 + x * 3);
  }
  return concatBytes(...[
    SIGNATURE,
    ihdr(width, height),
    pngChunk("IDAT", await zlib(raw)),
    pngChunk("IEND", new Uint8Array()),
  ]);
}

/**
 * A decompression bomb: a header declaring `width`×`height` RGB pixels over an
 * IDAT of `bodyBytes` zeros compressed (a few KiB on disk; decoding the declared
 * canvas would need width×height×3 bytes).
 *
 * @example
 * ```ts
 * import { bombPng } from "./png.ts";
 * const png = await bombPng(20000, 20000, 1 << 20);
 * if (png.byteLength > 64 * 1024) throw new Error(`${png.byteLength}`);
 * ```
 */
export async function bombPng(
  width: number,
  height: number,
  bodyBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const body = await zlib(new Uint8Array(bodyBytes));
  return concatBytes(...[
    SIGNATURE,
    ihdr(width, height),
    pngChunk("IDAT", body),
    pngChunk("IEND", new Uint8Array()),
  ]);
}
