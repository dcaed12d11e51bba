/**
 * Splits an agent's output pipe into lines without ever holding more than a
 * bounded line in memory: a process that writes one endless line must not make
 * the supervisor buffer it (that would let any agent exhaust the supervisor).
 *
 * @module
 */

/** What to do with a line longer than the bound. */
export type OverflowPolicy = "stop" | "split";

/** Options for {@linkcode readLines}. */
export interface ReadLinesOptions {
  /** Longest line accepted, newline excluded. */
  maxLineBytes: number;
  /**
   * `stop` (default): stop reading and cancel the stream; `split`: hand over the
   * first `maxLineBytes` as a line and go on (for logs).
   */
  overflow?: OverflowPolicy;
  /** Receives each line without its newline; returning `false` stops reading. */
  onLine(line: Uint8Array): Promise<boolean | void> | boolean | void;
}

/** How reading ended. */
export interface ReadLinesResult {
  /** `eof` at the end of the stream, `overflow` on an over-long line, `stopped` by `onLine`. */
  end: "eof" | "overflow" | "stopped";
  /** Bytes after the last newline at end of stream (a line cut off by a crash). */
  trailing: Uint8Array;
}

function join(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Reads `stream` line by line.
 *
 * @example
 * ```ts
 * import { readLines } from "./line_reader.ts";
 * const lines: string[] = [];
 * const stream = ReadableStream.from([new TextEncoder().encode("a\nbc\nd")]);
 * const result = await readLines(stream, {
 *   maxLineBytes: 16,
 *   onLine: (l) => void lines.push(new TextDecoder().decode(l)),
 * });
 * if (lines.join(",") !== "a,bc" || result.trailing.byteLength !== 1) throw new Error();
 * ```
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  options: ReadLinesOptions,
): Promise<ReadLinesResult> {
  const max = options.maxLineBytes;
  const split = options.overflow === "split";
  const reader = stream.getReader();
  let parts: Uint8Array[] = [];
  let size = 0;
  let end: ReadLinesResult["end"] = "eof";
  const emit = async (line: Uint8Array): Promise<boolean> => (await options.onLine(line)) !== false;
  try {
    outer: for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      let start = 0;
      while (start < value.byteLength) {
        const nl = value.indexOf(0x0a, start);
        const stop = nl === -1 ? value.byteLength : nl;
        let piece = value.subarray(start, stop);
        while (size + piece.byteLength > max) {
          if (!split) {
            end = "overflow";
            break outer;
          }
          const room = max - size;
          parts.push(piece.subarray(0, room));
          const line = join(parts, max);
          parts = [];
          size = 0;
          piece = piece.subarray(room);
          if (!await emit(line)) {
            end = "stopped";
            break outer;
          }
        }
        if (nl === -1) {
          if (piece.byteLength > 0) {
            // the stream may reuse its buffer: keep a copy of a partial line
            parts.push(piece.slice());
            size += piece.byteLength;
          }
          break;
        }
        parts.push(piece);
        const line = join(parts, size + piece.byteLength);
        parts = [];
        size = 0;
        start = nl + 1;
        if (!await emit(line)) {
          end = "stopped";
          break outer;
        }
      }
    }
  } finally {
    if (end !== "eof") await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return { end, trailing: end === "eof" ? join(parts, size) : new Uint8Array(0) };
}
