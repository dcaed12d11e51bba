/**
 * RFC 3339 UTC timestamps (`2026-11-26T20:37:00Z`, optional milliseconds) and the
 * one freshness check for `issued_at`/`expires_at` on every signed statement.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";
import { DecodeError } from "../json/decode.ts";
import type { Clock } from "./clock.ts";

const TIMESTAMP_RE =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{3})?Z$/;

/** Formats epoch milliseconds as an RFC 3339 UTC timestamp with milliseconds. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parses a strict RFC 3339 UTC timestamp; returns epoch milliseconds or `undefined`. */
export function parseTimestamp(text: string): number | undefined {
  if (!TIMESTAMP_RE.test(text)) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  // 2026-02-31 parses to March 3rd: a real date must round-trip
  const back = new Date(ms).toISOString();
  return back.slice(0, 19) === text.slice(0, 19) ? ms : undefined;
}

/** Decoder for a strict RFC 3339 UTC timestamp string. */
export function timestamp(value: unknown, path: string): string {
  if (typeof value !== "string" || parseTimestamp(value) === undefined) {
    throw new DecodeError(path, "an RFC 3339 UTC timestamp such as 2026-01-01T00:00:00Z");
  }
  return value;
}

/** The validity window every signed statement carries. */
export interface Validity {
  issued_at: string;
  expires_at: string;
}

/** Options for {@linkcode checkValidity}. */
export interface ValidityOptions {
  clock: Clock;
  /** Allowed skew in milliseconds between the signer's and our clock. */
  skewMs: number;
  /** What is being checked, for the message (e.g. `capability set for "planner"`). */
  what: string;
}

/**
 * Refuses a statement that has expired or was issued in the future beyond the
 * allowed skew (code `expired` for both: the statement is not fresh).
 *
 * @example
 * ```ts
 * import { checkValidity } from "./timestamp.ts";
 * checkValidity(
 *   { issued_at: "2026-01-01T00:00:00Z", expires_at: "2026-01-02T00:00:00Z" },
 *   { clock: { now: () => Date.parse("2026-01-01T12:00:00Z") }, skewMs: 0, what: "example" },
 * );
 * ```
 */
export function checkValidity(validity: Validity, options: ValidityOptions): void {
  const issued = parseTimestamp(validity.issued_at);
  const expires = parseTimestamp(validity.expires_at);
  if (issued === undefined || expires === undefined || expires <= issued) {
    throw new SaoeError("parse_error", `Invalid ${options.what}: expires_at must follow issued_at`);
  }
  const now = options.clock.now();
  if (now > expires + options.skewMs) {
    throw new SaoeError(
      "expired",
      `Cannot accept ${options.what}: it expired at ${validity.expires_at}`,
    );
  }
  if (issued > now + options.skewMs) {
    throw new SaoeError(
      "expired",
      `Cannot accept ${options.what}: it is issued at ${validity.issued_at}, in the future beyond the allowed clock skew`,
    );
  }
}
