/**
 * Reading the operator's answers from a terminal: one typed line (the sha256 a
 * publish asks for) and a secret line with echo off (a passphrase). Ctrl-C and
 * end of input are answers too, and both mean "no": the caller refuses and
 * writes nothing.
 *
 * The reading is done against small interfaces ({@linkcode ByteSource},
 * {@linkcode TerminalControl}) so the decisions can be tested with an injected
 * reader; {@linkcode stdinTerminal} binds them to the process's real terminal.
 *
 * @module
 */

/** Where the bytes come from (`Deno.stdin` has this shape). */
export interface ByteSource {
  read(p: Uint8Array): Promise<number | null>;
}

/** How a read ended other than with a line. */
export type NoAnswer = "eof" | "interrupted";

/** A line, or why there is none. */
export type Answer = { line: string } | { none: NoAnswer };

/** Longest answer accepted, in bytes (a sha256 or a passphrase fits easily). */
export const MAX_ANSWER_BYTES = 4096;

const CTRL_C = 0x03;
const CTRL_D = 0x04;
const BACKSPACE = 0x08;
const DEL = 0x7f;

/**
 * Reads from a byte source one byte at a time, keeping nothing past the line it
 * returns (a second prompt reads the next line).
 *
 * @example
 * ```ts
 * import { LineReader } from "./terminal.ts";
 * const bytes = new TextEncoder().encode("abc\ndef");
 * let at = 0;
 * const reader = new LineReader({
 *   read(p: Uint8Array) {
 *     if (at >= bytes.length) return Promise.resolve(null);
 *     p[0] = bytes[at++]!;
 *     return Promise.resolve(1);
 *   },
 * });
 * const first = await reader.readLine(new Promise(() => {}));
 * if (!("line" in first) || first.line !== "abc") throw new Error();
 * const second = await reader.readLine(new Promise(() => {}));
 * if (!("none" in second)) throw new Error("a last line without newline is not an answer");
 * ```
 */
export class LineReader {
  readonly #source: ByteSource;
  readonly #one = new Uint8Array(1);

  /** Reads from `source`. */
  constructor(source: ByteSource) {
    this.#source = source;
  }

  async #byte(): Promise<number | null> {
    const n = await this.#source.read(this.#one);
    return n === null || n === 0 ? null : this.#one[0]!;
  }

  /**
   * Reads one line (cooked terminal or pipe). End of input before the newline is
   * `eof` (a half-typed answer is not an answer); `interrupted` resolves the
   * read as `interrupted` (a SIGINT while waiting).
   */
  readLine(interrupted: Promise<unknown>): Promise<Answer> {
    return this.#race(interrupted, false);
  }

  /**
   * Reads one line from a terminal in raw mode (no echo): Enter ends it, Ctrl-C
   * is `interrupted`, Ctrl-D on an empty line is `eof`, Backspace edits.
   */
  readSecret(interrupted: Promise<unknown>): Promise<Answer> {
    return this.#race(interrupted, true);
  }

  #race(interrupted: Promise<unknown>, raw: boolean): Promise<Answer> {
    const stop = interrupted.then((): Answer => ({ none: "interrupted" }));
    return Promise.race([raw ? this.#raw() : this.#cooked(), stop]);
  }

  async #cooked(): Promise<Answer> {
    const bytes: number[] = [];
    for (;;) {
      const b = await this.#byte();
      if (b === null) return { none: "eof" };
      if (b === 0x0a) return { line: decode(bytes) };
      if (bytes.length >= MAX_ANSWER_BYTES) return { none: "eof" };
      bytes.push(b);
    }
  }

  async #raw(): Promise<Answer> {
    const bytes: number[] = [];
    for (;;) {
      const b = await this.#byte();
      if (b === null) return { none: "eof" };
      if (b === CTRL_C) return { none: "interrupted" };
      if (b === CTRL_D && bytes.length === 0) return { none: "eof" };
      if (b === 0x0d || b === 0x0a) return { line: decode(bytes) };
      if (b === BACKSPACE || b === DEL) {
        // drop the last UTF-8 character, not just its last byte
        while (bytes.length > 0 && (bytes.pop()! & 0xc0) === 0x80);
        continue;
      }
      if (bytes.length >= MAX_ANSWER_BYTES) return { none: "eof" };
      bytes.push(b);
    }
  }
}

function decode(bytes: number[]): string {
  return new TextDecoder().decode(new Uint8Array(bytes)).replace(/\r$/, "");
}

/** What a prompt needs of the terminal besides its bytes. */
export interface TerminalControl {
  /** Writes prompt text (to standard error, so standard output stays the report). */
  write(text: string): void;
  /** Turns echo and line editing off (`true`) or back on. */
  setRaw(raw: boolean): void;
  /** Calls `onInterrupt` on SIGINT until the returned function is called. */
  onInterrupt(onInterrupt: () => void): () => void;
}

/** A terminal to prompt on. */
export interface Terminal {
  reader: LineReader;
  control: TerminalControl;
}

/**
 * The process's terminal: `Deno.stdin` for input, standard error for prompts,
 * and a SIGINT listener while a prompt waits (so Ctrl-C is an answer that
 * restores the terminal, not a kill that leaves it in raw mode).
 *
 * @example
 * ```ts ignore
 * if (Deno.stdin.isTerminal()) {
 *   const answer = await prompt(stdinTerminal(), "Type the sha256: ");
 * }
 * ```
 */
export function stdinTerminal(): Terminal {
  return {
    reader: new LineReader(Deno.stdin),
    control: {
      write(text) {
        Deno.stderr.writeSync(new TextEncoder().encode(text));
      },
      setRaw(raw) {
        Deno.stdin.setRaw(raw);
      },
      onInterrupt(onInterrupt) {
        Deno.addSignalListener("SIGINT", onInterrupt);
        return () => Deno.removeSignalListener("SIGINT", onInterrupt);
      },
    },
  };
}

/** Options for {@linkcode prompt}. */
export interface PromptOptions {
  /** Read with echo off (a secret). */
  secret?: boolean;
}

/**
 * Writes `question`, reads one answer, restores the terminal whatever happens.
 *
 * @example
 * ```ts
 * import { LineReader, prompt } from "./terminal.ts";
 * const bytes = new TextEncoder().encode("yes\n");
 * let at = 0;
 * const written: string[] = [];
 * const answer = await prompt({
 *   reader: new LineReader({
 *     read(p: Uint8Array) {
 *       if (at >= bytes.length) return Promise.resolve(null);
 *       p[0] = bytes[at++]!;
 *       return Promise.resolve(1);
 *     },
 *   }),
 *   control: { write: (t) => written.push(t), setRaw() {}, onInterrupt: () => () => {} },
 * }, "Proceed? ");
 * if (!("line" in answer) || answer.line !== "yes" || written[0] !== "Proceed? ") throw new Error();
 * ```
 */
export async function prompt(
  terminal: Terminal,
  question: string,
  options: PromptOptions = {},
): Promise<Answer> {
  const { control, reader } = terminal;
  let interrupt = () => {};
  const interrupted = new Promise<void>((resolve) => interrupt = resolve);
  const stopListening = control.onInterrupt(() => interrupt());
  control.write(question);
  const secret = options.secret === true;
  try {
    if (secret) control.setRaw(true);
    const answer = secret
      ? await reader.readSecret(interrupted)
      : await reader.readLine(interrupted);
    // the cursor is still on the prompt line after ^C or ^D: end it so the refusal reads cleanly
    if (!secret && "none" in answer) control.write("\n");
    return answer;
  } finally {
    if (secret) {
      control.setRaw(false);
      control.write("\n");
    }
    stopListening();
  }
}
