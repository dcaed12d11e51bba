/**
 * Strict query parameters: each route names the parameters it takes and a parser
 * for each; anything else — an unknown name, a repeated name, a value the parser
 * refuses, an overlong query — is a `bad_identifier` refusal that the handler
 * answers with 400. Messages name only the route's own parameter names, never a
 * value or an unknown name from the request (a reflected value would be an
 * injection point on the error page).
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { OTHER_CODES, type ReasonCode, VALIDATION_CODES } from "../../primitives/errors.ts";
import { AGENT_ID_RE, UUID_RE } from "../../primitives/ids/patterns.ts";
import { EVENT_TYPES, type EventType } from "../../domain/ledger/events.ts";

/** Parses one value; `undefined` refuses it. */
export type ParamParser<T> = (value: string) => T | undefined;

/** The parameters of one route. */
export type ParamSpec = Readonly<Record<string, ParamParser<unknown>>>;

/** The parsed parameters: each present only when given with a non-empty value. */
export type ParsedParams<S extends ParamSpec> = {
  [K in keyof S]?: S[K] extends ParamParser<infer T> ? T : never;
};

/** Longest query string accepted, in characters. */
export const MAX_QUERY_CHARS = 2048;

/**
 * Parses `url`'s query against `spec`; empty values count as absent (a filter
 * form's "any" choice).
 *
 * @example
 * ```ts
 * import { intParam, parseQuery, sessionParam } from "./params.ts";
 * const q = parseQuery(new URL("http://x/?before=9&session="), {
 *   before: intParam(1),
 *   session: sessionParam,
 * });
 * if (q.before !== 9 || q.session !== undefined) throw new Error();
 * ```
 */
export function parseQuery<S extends ParamSpec>(url: URL, spec: S): ParsedParams<S> {
  if (url.search.length > MAX_QUERY_CHARS) {
    throw new SaoeError("bad_identifier", "The query string is too long");
  }
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const [name, value] of url.searchParams) {
    if (!Object.hasOwn(spec, name)) {
      throw new SaoeError("bad_identifier", "The query has a parameter this page does not take");
    }
    if (seen.has(name)) {
      throw new SaoeError("bad_identifier", `The query parameter "${name}" is given twice`);
    }
    seen.add(name);
    if (value === "") continue;
    const parsed = spec[name]!(value);
    if (parsed === undefined) {
      throw new SaoeError("bad_identifier", `Invalid value for the query parameter "${name}"`);
    }
    out[name] = parsed;
  }
  return out as ParsedParams<S>;
}

/** A decimal integer from `min` to `max` (no sign, no leading zeros). */
export function intParam(min: number, max: number = Number.MAX_SAFE_INTEGER): ParamParser<number> {
  return (value) => {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(value)) return undefined;
    const n = Number(value);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  };
}

/** A session id (lowercase UUID). */
export function sessionParam(value: string): string | undefined {
  return UUID_RE.test(value) ? value : undefined;
}

/** An agent id. */
export function agentParam(value: string): string | undefined {
  return AGENT_ID_RE.test(value) ? value : undefined;
}

/** An audit event type. */
export function typeParam(value: string): EventType | undefined {
  return (EVENT_TYPES as readonly string[]).includes(value) ? value as EventType : undefined;
}

/** Every reason code, in the order of `core/primitives/errors.ts`. */
export const REASON_CODES: readonly ReasonCode[] = [...VALIDATION_CODES, ...OTHER_CODES];

/** A reason code. */
export function reasonParam(value: string): ReasonCode | undefined {
  return (REASON_CODES as readonly string[]).includes(value) ? value as ReasonCode : undefined;
}
