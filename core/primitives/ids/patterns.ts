/**
 * Strict identifier patterns, applied before an identifier is used in a path, a
 * query or a vault lookup: none of them can express `..`, `/`, NUL, whitespace,
 * upper case or a trailing newline (JavaScript's `$` does not match before `\n`
 * without the `m` flag, and no pattern here uses it).
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { type Decoder, str } from "../json/decode.ts";

/** Lowercase RFC 9562 UUID (versions 1-8), as session and envelope ids. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Agent ids: lowercase letter, then lowercase letters, digits and `_`; 32 at most. */
export const AGENT_ID_RE = /^[a-z][a-z0-9_]{0,31}$/;
/** Template ids: lowercase letter, then lowercase letters, digits and `_`; 64 at most. */
export const TEMPLATE_ID_RE = /^[a-z][a-z0-9_]{0,63}$/;
/** Tool names share the template id pattern. */
export const TOOL_NAME_RE = TEMPLATE_ID_RE;
/** Lowercase hex SHA-256. */
export const SHA256_HEX_RE = /^[0-9a-f]{64}$/;

/** Largest template or statement version. */
export const MAX_VERSION = 1_000_000_000;

/** Decoder for a session id (lowercase UUID); refusal code `bad_identifier`. */
export const sessionId: Decoder<string> = str({
  pattern: UUID_RE,
  maxLength: 36,
  code: "bad_identifier",
  what: "a lowercase UUID",
});
/** Decoder for an envelope, plan or other UUID id; refusal code `bad_identifier`. */
export const uuid: Decoder<string> = sessionId;
/** Decoder for an agent id; refusal code `bad_identifier`. */
export const agentId: Decoder<string> = str({
  pattern: AGENT_ID_RE,
  maxLength: 32,
  code: "bad_identifier",
  what: "an agent id (lowercase letters, digits, _)",
});
/** Decoder for a template id; refusal code `bad_identifier`. */
export const templateId: Decoder<string> = str({
  pattern: TEMPLATE_ID_RE,
  maxLength: 64,
  code: "bad_identifier",
  what: "a template id (lowercase letters, digits, _)",
});
/** Decoder for a lowercase hex SHA-256 digest. */
export const sha256HexId: Decoder<string> = str({
  pattern: SHA256_HEX_RE,
  maxLength: 64,
  code: "bad_identifier",
  what: "a lowercase hex SHA-256 digest",
});

/** Throws `bad_identifier` unless `value` matches `pattern`; returns it otherwise. */
export function assertIdentifier(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) {
    throw new SaoeError("bad_identifier", `Invalid ${what} ${JSON.stringify(value.slice(0, 80))}`);
  }
  return value;
}
