/**
 * Bearer authentication of intake requests. Intake knows each operator credential
 * only by its SHA-256 (handed over by the supervisor): the presented secret is
 * hashed and compared in constant time with every known hash, so neither a leaked
 * handover nor response timing gives the secret away.
 *
 * @module
 */
import { constantTimeEqualText } from "../../primitives/crypto/bytes.ts";
import { hashOperatorToken } from "../../domain/keys/operator_token.ts";
import type { OperatorToken } from "../runtime/protocol.ts";
import { IntakeRefusal } from "./refusal.ts";

/** Longest credential accepted in a header (a real one is 81 characters). */
export const MAX_CREDENTIAL_CHARS = 256;

const BEARER_RE = /^Bearer ([\x21-\x7e]+)$/;

/**
 * Returns the credential record the `Authorization` header proves, or throws a
 * refusal: 401 `unauthenticated` without a well-formed `Bearer` header, 403
 * `bad_credential` for a credential intake does not know.
 *
 * @example
 * ```ts
 * import { authenticate } from "./auth.ts";
 * import { hashOperatorToken } from "../../domain/keys/operator_token.ts";
 * const token = "saoe_ops_" + "A".repeat(43);
 * const tokens = [{ id: "ops", sha256: await hashOperatorToken(token), kind: "person" as const }];
 * const who = await authenticate(`Bearer ${token}`, tokens);
 * if (who.id !== "ops") throw new Error();
 * ```
 */
export async function authenticate(
  header: string | null,
  tokens: readonly OperatorToken[],
): Promise<OperatorToken> {
  const match = header === null || header.length > MAX_CREDENTIAL_CHARS + 7
    ? null
    : BEARER_RE.exec(header);
  if (match === null) {
    throw new IntakeRefusal(
      401,
      "unauthenticated",
      "Missing credential: expected an Authorization: Bearer <credential> header",
    );
  }
  const presented = await hashOperatorToken(match[1]!);
  let found: OperatorToken | undefined;
  // compare with every known hash, without stopping early
  for (const token of tokens) {
    if (constantTimeEqualText(presented, token.sha256) && found === undefined) found = token;
  }
  if (found === undefined) {
    throw new IntakeRefusal(403, "bad_credential", "The credential is not one intake accepts");
  }
  return found;
}
