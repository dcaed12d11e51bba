/**
 * The typed-hash gate: the operator approves a publish by giving back the sha256
 * of the exact bytes they were shown, typed at a terminal or passed as
 * `--confirm-sha256 HEX` by a script that must already know what it publishes.
 * Anything else (a wrong hash, end of input, Ctrl-C) is a refusal, raised before
 * anything is written.
 *
 * Why typed and not "y/N": a reflexive "y" approves whatever was on screen; the
 * hash ties the approval to the bytes, and a script cannot get past the gate by
 * piping "yes".
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { constantTimeEqualText } from "../../core/primitives/crypto/bytes.ts";
import { SHA256_HEX_RE } from "../../core/primitives/ids/patterns.ts";
import { prompt, type Terminal } from "./terminal.ts";

/**
 * Whether `given` is the hex sha256 `expected` (case and surrounding space
 * ignored), compared in constant time.
 *
 * @example
 * ```ts
 * import { sha256Matches } from "./confirm_hash.ts";
 * const h = "a".repeat(64);
 * if (!sha256Matches(h, ` ${h.toUpperCase()}\n`)) throw new Error();
 * if (sha256Matches(h, "b".repeat(64))) throw new Error();
 * ```
 */
export function sha256Matches(expected: string, given: string): boolean {
  const typed = given.trim().toLowerCase();
  // equal lengths keep the comparison constant-time; a malformed answer is just "no"
  if (!SHA256_HEX_RE.test(typed) || !SHA256_HEX_RE.test(expected)) return false;
  return constantTimeEqualText(expected, typed);
}

/**
 * Throws `content_hash_mismatch` unless `given` matches `expected`.
 *
 * @example
 * ```ts
 * import { requireSha256 } from "./confirm_hash.ts";
 * requireSha256("a".repeat(64), "a".repeat(64), "--confirm-sha256");
 * ```
 */
export function requireSha256(expected: string, given: string, source: string): void {
  if (!sha256Matches(expected, given)) {
    throw new SaoeError(
      "content_hash_mismatch",
      `Not published: the sha256 from ${source} is not ${expected}, the sha256 shown above; nothing was written`,
    );
  }
}

/**
 * Asks the operator to type the sha256 on `terminal`. Throws
 * `content_hash_mismatch` on a wrong hash and `not_confirmed` on end of input
 * or Ctrl-C (no approval was given).
 *
 * @example
 * ```ts
 * import { confirmSha256 } from "./confirm_hash.ts";
 * import { LineReader } from "./terminal.ts";
 * const hash = "c".repeat(64);
 * const bytes = new TextEncoder().encode(`${hash}\n`);
 * let at = 0;
 * await confirmSha256({
 *   reader: new LineReader({
 *     read(p: Uint8Array) {
 *       if (at >= bytes.length) return Promise.resolve(null);
 *       p[0] = bytes[at++]!;
 *       return Promise.resolve(1);
 *     },
 *   }),
 *   control: { write() {}, setRaw() {}, onInterrupt: () => () => {} },
 * }, hash);
 * ```
 */
export async function confirmSha256(terminal: Terminal, expected: string): Promise<void> {
  const answer = await prompt(terminal, "Type the sha256 above to publish (Ctrl-C to cancel): ");
  if ("none" in answer) {
    throw new SaoeError(
      "not_confirmed",
      `Not published: ${
        answer.none === "interrupted" ? "interrupted" : "end of input"
      } before the sha256 was typed; nothing was written`,
    );
  }
  requireSha256(expected, answer.line, "the terminal");
}
