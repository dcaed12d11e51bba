import assert from "node:assert/strict";
import {
  BACKOFF_INITIAL_MS,
  BACKOFF_MAX_MS,
  BACKOFF_RESET_AFTER_MS,
  nextBackoffMs,
} from "../../core/services/supervisor/backoff.ts";

Deno.test("nextBackoffMs() starts at 0.5 s and doubles up to 30 s", () => {
  const delays: number[] = [];
  let previous: number | undefined;
  for (let i = 0; i < 10; i++) {
    previous = nextBackoffMs(previous, 100);
    delays.push(previous);
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  assert.equal(BACKOFF_INITIAL_MS, 500);
  assert.equal(BACKOFF_MAX_MS, 30_000);
});

Deno.test("nextBackoffMs() resets to the first delay after an agent stayed up a minute", () => {
  assert.equal(nextBackoffMs(30_000, BACKOFF_RESET_AFTER_MS), BACKOFF_INITIAL_MS);
  assert.equal(nextBackoffMs(30_000, BACKOFF_RESET_AFTER_MS - 1), BACKOFF_MAX_MS);
});
