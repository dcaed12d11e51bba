/**
 * Assertion helpers for refusals: every test of a refusal checks its reason code,
 * not only that something was thrown. Shared by the foundation tests under
 * tests/core/{json,crypto,dsse,time,ids,home}.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ReasonCode, SaoeError } from "../../../core/primitives/errors.ts";

/** Asserts that `fn` throws a SaoeError with `code` and returns it. */
export function throwsCode(fn: () => unknown, code: ReasonCode): SaoeError {
  try {
    fn();
  } catch (err: unknown) {
    assert.ok(err instanceof SaoeError, `expected a SaoeError, got ${String(err)}`);
    assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected a refusal with code ${code}, but nothing was thrown`);
}

/** Asserts that `promise` rejects with a SaoeError with `code` and returns it. */
export async function rejectsCode(promise: Promise<unknown>, code: ReasonCode): Promise<SaoeError> {
  try {
    await promise;
  } catch (err: unknown) {
    assert.ok(err instanceof SaoeError, `expected a SaoeError, got ${String(err)}`);
    assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected a refusal with code ${code}, but the promise resolved`);
}

/** UTF-8 bytes of `text`. */
export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Concatenates byte arrays and byte lists. */
export function joinBytes(...parts: (Uint8Array | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}
