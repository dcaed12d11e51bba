/**
 * The names a witness deals in: its own key name (a schema-less URL such as
 * `witness.local/alice`, which is the name of its cosignature lines and of its
 * vkey) and the origins of the logs it knows (the first line of their
 * checkpoints, and the name of their verifier keys). Both are note key names
 * (c2sp.org/signed-note): never empty, no spaces, no `+`; SAOE also keeps them
 * printable ASCII so they are safe in a log line and a file.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";

/** A witness name: a lowercase host with at least one dot, then optional `/path` segments. */
export const WITNESS_NAME_RE =
  /^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+(?:\/[A-Za-z0-9._~-]+)*$/;

/** An origin: 1 to 255 printable ASCII characters, no space and no `+`. */
export const ORIGIN_RE = /^[!-*,-~]{1,255}$/;

/**
 * Returns `name` when it is a valid witness name, else `bad_identifier` naming
 * what is expected.
 *
 * @example
 * ```ts
 * import { checkWitnessName } from "./names.ts";
 * checkWitnessName("witness.local/alice");
 * let refused = false;
 * try { checkWitnessName("https://witness.local"); } catch { refused = true; }
 * if (!refused) throw new Error("a scheme is not part of a key name");
 * ```
 */
export function checkWitnessName(name: string): string {
  if (!WITNESS_NAME_RE.test(name)) {
    throw new SaoeError(
      "bad_identifier",
      `Invalid witness name ${
        JSON.stringify(name.slice(0, 80))
      }: expected a schema-less URL-like key name such as witness.example/alice (a lowercase host with a dot, optional /path, no scheme, no spaces or +)`,
    );
  }
  return name;
}

/**
 * Returns `origin` when it is a valid log origin, else `bad_identifier`.
 *
 * @example
 * ```ts
 * import { checkOrigin } from "./names.ts";
 * checkOrigin("saoe.example/ledger/5c1b");
 * ```
 */
export function checkOrigin(origin: string): string {
  if (!ORIGIN_RE.test(origin)) {
    throw new SaoeError(
      "bad_identifier",
      `Invalid log origin ${
        JSON.stringify(origin.slice(0, 80))
      }: expected 1 to 255 printable ASCII characters without spaces or +, such as example.com/log42`,
    );
  }
  return origin;
}
