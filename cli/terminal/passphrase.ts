/**
 * Getting the passphrase of the offline dispatcher key file: from a file named
 * by the operator (`--passphrase-file F`, for automation) or from the terminal
 * with echo off (twice when a new file is written, so a typo cannot lock the
 * keys away). Never from an argument or the environment, where other local users
 * and process listings could see it.
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { readTrustFile } from "../../core/domain/trust/files.ts";
import { type Answer, prompt, type Terminal } from "./terminal.ts";

/** Largest passphrase file read. */
export const MAX_PASSPHRASE_FILE_BYTES = 4096;

/**
 * Reads a passphrase file: its first line (a trailing newline is not part of
 * the passphrase). Refuses an empty passphrase, a symlink or an oversize file.
 *
 * @example
 * ```ts
 * import { readPassphraseFile } from "./passphrase.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/p`, "correct horse battery staple\n");
 * if (await readPassphraseFile(`${dir}/p`) !== "correct horse battery staple") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readPassphraseFile(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readTrustFile(path, MAX_PASSPHRASE_FILE_BYTES);
  } catch (err: unknown) {
    if (!(err instanceof SaoeError)) throw err;
    throw new SaoeError(err.code, `Cannot read the passphrase file: ${err.message}`, {
      file: path,
    });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new SaoeError("parse_error", `Cannot read the passphrase file ${path}: not UTF-8 text`, {
      file: path,
    });
  } finally {
    bytes.fill(0);
  }
  const passphrase = text.replace(/\r?\n$/, "");
  if (passphrase === "" || /[\r\n]/.test(passphrase)) {
    throw new SaoeError(
      "bad_credential",
      `Cannot read the passphrase file ${path}: expected one non-empty line`,
      { file: path },
    );
  }
  return passphrase;
}

function answerOf(answer: Answer, what: string): string {
  if ("none" in answer) {
    const why = answer.none === "interrupted" ? "interrupted" : "end of input";
    throw new SaoeError("bad_credential", `No passphrase for ${what}: ${why}`);
  }
  if (answer.line === "") {
    throw new SaoeError("bad_credential", `No passphrase for ${what}: it was empty`);
  }
  return answer.line;
}

/** Options for {@linkcode promptPassphrase}. */
export interface PromptPassphraseOptions {
  /** What the passphrase protects, for the prompt. */
  what: string;
  /** Ask twice and require both to match (a new file). */
  confirm: boolean;
}

/**
 * Asks for a passphrase on `terminal` with echo off. Ctrl-C, end of input, an
 * empty answer or two different answers are `bad_credential` refusals.
 *
 * @example
 * ```ts
 * import { promptPassphrase } from "./passphrase.ts";
 * import { LineReader } from "./terminal.ts";
 * const bytes = new TextEncoder().encode("long enough pass\rlong enough pass\r");
 * let at = 0;
 * const terminal = {
 *   reader: new LineReader({
 *     read(p: Uint8Array) {
 *       if (at >= bytes.length) return Promise.resolve(null);
 *       p[0] = bytes[at++]!;
 *       return Promise.resolve(1);
 *     },
 *   }),
 *   control: { write() {}, setRaw() {}, onInterrupt: () => () => {} },
 * };
 * const p = await promptPassphrase(terminal, { what: "the key file", confirm: true });
 * if (p !== "long enough pass") throw new Error();
 * ```
 */
export async function promptPassphrase(
  terminal: Terminal,
  options: PromptPassphraseOptions,
): Promise<string> {
  const first = answerOf(
    await prompt(terminal, `Passphrase for ${options.what}: `, { secret: true }),
    options.what,
  );
  if (!options.confirm) return first;
  const second = answerOf(
    await prompt(terminal, "Repeat the passphrase: ", { secret: true }),
    options.what,
  );
  if (second !== first) {
    throw new SaoeError(
      "bad_credential",
      `No passphrase for ${options.what}: the two entries differ`,
    );
  }
  return first;
}
