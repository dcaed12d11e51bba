import assert from "node:assert/strict";
import { SlidingWindowQuota } from "../../core/services/intake/quota.ts";
import { FakeClock } from "../../core/devtools/testing/fake_clock.ts";

Deno.test("SlidingWindowQuota admits a request exactly when the oldest leaves the 60 s window", () => {
  const clock = new FakeClock(1_000_000);
  const quota = new SlidingWindowQuota(clock);
  for (const offset of [0, 10_000, 20_000]) {
    clock.set(1_000_000 + offset);
    assert.deepEqual(quota.take("ops", 3), { allowed: true });
  }
  clock.set(1_030_000);
  assert.deepEqual(quota.take("ops", 3), { allowed: false, retryAfterSeconds: 30 });
  clock.set(1_059_999);
  assert.deepEqual(quota.take("ops", 3), { allowed: false, retryAfterSeconds: 1 });
  // a fixed-minute counter would reset here; the sliding window frees one slot only
  clock.set(1_060_001);
  assert.deepEqual(quota.take("ops", 3), { allowed: true });
  assert.deepEqual(quota.take("ops", 3), { allowed: false, retryAfterSeconds: 10 });
});

Deno.test("SlidingWindowQuota does not count refused requests and keeps credentials apart", () => {
  const clock = new FakeClock(0);
  const quota = new SlidingWindowQuota(clock);
  assert.equal(quota.take("a", 1).allowed, true);
  for (let i = 0; i < 5; i++) assert.equal(quota.take("a", 1).allowed, false);
  assert.equal(quota.take("b", 1).allowed, true);
  clock.set(60_001);
  assert.equal(quota.take("a", 1).allowed, true);
});
