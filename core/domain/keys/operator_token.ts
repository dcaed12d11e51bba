/**
 * Operator credentials for intake: a random 32-byte secret shown to the operator
 * as `saoe_<id>_<base64url>`, kept in `keys/operator-<id>.token` (mode 0600, never
 * readable by an agent) for `saoe submit`, and known to intake only by its
 * SHA-256 (the supervisor hands the hashes over; a leaked config or handover
 * cannot be replayed as a credential).
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex, utf8 } from "../../primitives/crypto/bytes.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";

/** A credential as the config records it. */
export interface OperatorTokenRecord {
  id: string;
  sha256: string;
  kind: "person" | "automation";
}

const ID_RE = /^[a-z0-9-]{1,32}$/;
/** The shape of a credential string. */
export const TOKEN_RE = /^saoe_([a-z0-9-]{1,32})_([A-Za-z0-9_-]{43})$/;

/** Path of the secret file of credential `id`. */
export function operatorTokenPath(keysDir: string, id: string): string {
  if (!ID_RE.test(id)) {
    throw new SaoeError("bad_identifier", `Invalid credential id ${JSON.stringify(id)}`);
  }
  return join(keysDir, `operator-${id}.token`);
}

/** Hex SHA-256 of a credential string, as intake compares it. */
export function hashOperatorToken(token: string): Promise<string> {
  return sha256Hex(utf8(token));
}

/**
 * Creates a credential, stores its secret and returns the record for the config.
 *
 * @example
 * ```ts
 * import { createOperatorToken, readOperatorToken } from "./operator_token.ts";
 * const dir = await Deno.makeTempDir();
 * const record = await createOperatorToken(dir, "ci", "automation");
 * const token = await readOperatorToken(dir, "ci");
 * if (!token.startsWith("saoe_ci_") || record.kind !== "automation") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function createOperatorToken(
  keysDir: string,
  id: string,
  kind: "person" | "automation",
): Promise<OperatorTokenRecord> {
  const secret = crypto.getRandomValues(new Uint8Array(32)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
  const token = `saoe_${id}_${secret}`;
  await writeFileAtomic(operatorTokenPath(keysDir, id), utf8(`${token}\n`), { mode: 0o600 });
  return { id, sha256: await hashOperatorToken(token), kind };
}

/** Reads the secret of credential `id`. */
export async function readOperatorToken(keysDir: string, id: string): Promise<string> {
  const path = operatorTokenPath(keysDir, id);
  let text: string;
  try {
    text = (await Deno.readTextFile(path)).trim();
  } catch {
    throw new SaoeError(
      "bad_config",
      `Cannot read the operator credential ${path}: run "saoe init" first`,
      {
        file: path,
      },
    );
  }
  if (!TOKEN_RE.test(text)) {
    throw new SaoeError("parse_error", `Invalid operator credential in ${path}`);
  }
  return text;
}
