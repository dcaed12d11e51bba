/**
 * Asserts a validator refusal: its reason code, step and ids, and, from the
 * fixture ports' counters, that no step after the refusing one ran.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ReasonCode, RefusalIds } from "../../../core/primitives/errors.ts";
import { ValidationError } from "../../../core/domain/validate/validation_error.ts";
import { type Counts, ME, SENDER, type World } from "./_fixtures.ts";

/** What a refusal must look like. */
export interface ExpectedRefusal {
  code: ReasonCode;
  step: number;
  ids: RefusalIds;
  /** Sender whose capset step 7 looked up; default SENDER. */
  sender?: string;
  /** At step 3: whether the directory was consulted (false for a malformed sender). */
  directoryAsked?: boolean;
  /** At step 7: whether the sender's capset was looked up (false when the receiver's own capset already refuses). */
  senderCapsetAsked?: boolean;
}

/** The port calls a refusal at `step` may have made, and no more. */
export function countsThrough(expected: ExpectedRefusal): Counts {
  const step = expected.step;
  const capsets = [ME];
  if (step > 7 || (step === 7 && expected.senderCapsetAsked !== false)) {
    capsets.push(expected.sender ?? SENDER);
  }
  if (step >= 10) capsets.push(ME);
  return {
    directory: step < 3 ? 0 : step === 3 ? (expected.directoryAsked === false ? 0 : 1) : 1,
    capsets,
    vault: step >= 8 ? 1 : 0,
    quota: step >= 13 ? 1 : 0,
    replay: step >= 14 ? 1 : 0,
  };
}

function delta(before: Counts, after: Counts): Counts {
  return {
    directory: after.directory - before.directory,
    capsets: after.capsets.slice(before.capsets.length),
    vault: after.vault - before.vault,
    quota: after.quota - before.quota,
    replay: after.replay - before.replay,
  };
}

/** Validates `bytes` (or the file at `path`), expecting the refusal described. */
export async function expectRefusal(
  world: World,
  input: Uint8Array | string,
  expected: ExpectedRefusal,
): Promise<ValidationError> {
  const before = world.counts();
  let caught: unknown;
  try {
    await (typeof input === "string"
      ? world.validator.validateFile(input)
      : world.validator.validate(input));
  } catch (err: unknown) {
    caught = err;
  }
  assert.ok(caught instanceof ValidationError, `expected a ValidationError, got ${caught}`);
  assert.equal(caught.code, expected.code, caught.message);
  assert.equal(caught.step, expected.step, caught.message);
  assert.deepEqual(caught.ids, expected.ids);
  assert.match(caught.message, /^Cannot accept envelope/);
  assert.deepEqual(delta(before, world.counts()), countsThrough(expected), "later steps ran");
  return caught;
}
