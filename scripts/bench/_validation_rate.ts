/**
 * The timed loop both validator measurements share: envelopes signed beforehand
 * from sanitization to the planner, the first 20 validated untimed (schema
 * cache, key import, JIT), the rest timed.
 *
 * @module
 */
import type { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import type { Clock } from "../../core/primitives/time/clock.ts";
import { createEnvelope, signEnvelope } from "../../core/domain/validate/envelope.ts";

/** Envelopes validated before timing starts. */
export const WARMUP = 20;

/** What {@linkcode validationRate} measures. */
export interface ValidationRateOptions {
  validate(bytes: Uint8Array): Promise<unknown>;
  signer: SigningKey;
  template: { id: string; version: number; sha256: string };
  payload(i: number): Record<string, string | number>;
  count: number;
  clock?: Clock;
}

/** Validates `count` envelopes and returns envelopes per second over all but the warm-up. */
export async function validationRate(options: ValidationRateOptions): Promise<number> {
  const envelopes: Uint8Array[] = [];
  for (let i = 0; i < options.count; i++) {
    const fields = createEnvelope({
      sender: "sanitization",
      receiver: "planner",
      template: options.template,
      payload: options.payload(i),
      human_readable: `Article ${i}`,
      ...(options.clock !== undefined ? { clock: options.clock } : {}),
    });
    envelopes.push(await signEnvelope({ fields, signer: options.signer }));
  }
  for (const bytes of envelopes.slice(0, WARMUP)) await options.validate(bytes);
  const start = performance.now();
  for (const bytes of envelopes.slice(WARMUP)) await options.validate(bytes);
  return Math.round((options.count - WARMUP) / ((performance.now() - start) / 1000));
}
