/**
 * A refused request: the HTTP status, a stable reason code (audited in
 * `intake_refused` and returned to the client) and, for 429/503, how long to
 * wait. Messages never contain the credential or the submitted text.
 *
 * @module
 */
import type { ReasonCode } from "../../primitives/errors.ts";

/** Options for {@linkcode IntakeRefusal}. */
export interface IntakeRefusalOptions {
  /** Seconds for the `Retry-After` header (429 and 503). */
  retryAfter?: number;
  /** The credential id, once the request is authenticated. */
  credential?: string;
}

/**
 * A refusal with an HTTP status and a reason code.
 *
 * @example
 * ```ts
 * import { IntakeRefusal } from "./refusal.ts";
 * const r = new IntakeRefusal(413, "size_exceeded", "Image 1 is 21 MiB: expected at most 20 MiB");
 * if (r.status !== 413 || r.reason !== "size_exceeded") throw new Error();
 * ```
 */
export class IntakeRefusal extends Error {
  /** HTTP status of the answer. */
  readonly status: number;
  /** Stable reason code. */
  readonly reason: ReasonCode;
  /** `Retry-After` seconds, when the client may try again later. */
  readonly retryAfter: number | undefined;
  /** The authenticated credential id, when known. */
  readonly credential: string | undefined;

  /** Creates a refusal. */
  constructor(
    status: number,
    reason: ReasonCode,
    message: string,
    options: IntakeRefusalOptions = {},
  ) {
    super(message);
    this.name = "IntakeRefusal";
    this.status = status;
    this.reason = reason;
    this.retryAfter = options.retryAfter;
    this.credential = options.credential;
  }
}
