/**
 * Reading an HTTP body with a byte cap, on both sides of the witness protocol:
 * a declared `Content-Length` over the cap is refused before a byte is read,
 * and a streamed body is cut off as soon as it passes the cap, so neither a
 * client nor a witness can be made to buffer more than it expects.
 *
 * @module
 */

/**
 * The body of `message` (a `Request` or `Response`), or the error `tooBig()`
 * once it exceeds `maxBytes`.
 *
 * @example
 * ```ts
 * import { readCapped } from "./read_capped.ts";
 * const body = await readCapped(new Response("hello"), 10, () => new Error("too big"));
 * if (body.byteLength !== 5) throw new Error();
 * let refused = false;
 * await readCapped(new Response("hello"), 4, () => new Error("too big")).catch(() => refused = true);
 * if (!refused) throw new Error("a body over the cap was read");
 * ```
 */
export async function readCapped(
  message: Request | Response,
  maxBytes: number,
  tooBig: () => Error,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = message.headers.get("content-length");
  if (declared !== null && (!/^[0-9]{1,15}$/.test(declared) || Number(declared) > maxBytes)) {
    await message.body?.cancel().catch(() => {});
    throw tooBig();
  }
  if (message.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = message.body.getReader();
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
