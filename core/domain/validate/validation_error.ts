/**
 * The refusal the envelope validator throws: a {@linkcode SaoeError} that also
 * names the validation step (1 to 14, docs/design.md section 3) at which the envelope was
 * refused. Its `ids` hold every identifier parsed so far, so the agent's
 * `rejected` audit event can name what it refused; ids are only carried once they
 * matched their strict pattern, so an audit record never holds attacker-chosen text.
 *
 * @module
 */
import { type ReasonCode, type RefusalIds, SaoeError } from "../../primitives/errors.ts";

/** Options for {@linkcode ValidationError}. */
export interface ValidationErrorInit {
  /** Validation step (1-14) that refused the envelope. */
  step: number;
  /** Stable reason code. */
  code: ReasonCode;
  /** Sentence-case message naming the envelope and what was expected. */
  message: string;
  /** Identifiers parsed before the refusal. */
  ids: RefusalIds;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * An envelope refusal at a given validation step.
 *
 * @example
 * ```ts
 * import { ValidationError } from "./validation_error.ts";
 * const err = new ValidationError({
 *   step: 14,
 *   code: "replay",
 *   message: "Cannot accept envelope 1: already processed",
 *   ids: { sender: "planner" },
 * });
 * if (err.code !== "replay" || err.step !== 14) throw new Error("unexpected");
 * ```
 */
export class ValidationError extends SaoeError {
  /** Validation step (1-14) at which the envelope was refused. */
  readonly step: number;

  /** Creates a refusal at `init.step` with the ids known so far. */
  constructor(init: ValidationErrorInit) {
    super(
      init.code,
      init.message,
      init.ids,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = "ValidationError";
    this.step = init.step;
  }

  /** Returns a copy with more ids attached (earlier ids win). */
  override withIds(ids: RefusalIds): ValidationError {
    return new ValidationError({
      step: this.step,
      code: this.code,
      message: this.message,
      ids: { ...ids, ...this.ids },
      cause: this,
    });
  }
}
