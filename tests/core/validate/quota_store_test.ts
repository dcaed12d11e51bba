import assert from "node:assert/strict";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import { MemoryQuotaStore, QUOTA_WINDOW_MS } from "../../../core/domain/validate/quota_store.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");

Deno.test("MemoryQuotaStore accepts N in 60 s, refuses N+1 and accepts again once the oldest leaves", () => {
  const clock = new FakeClock(T0);
  const quota = new MemoryQuotaStore();
  for (let i = 0; i < 3; i++) {
    assert.equal(quota.take("planner", clock.now(), 3), true, `event ${i}`);
    clock.advance(10_000);
  }
  // now T0+30 s: three accepted in the window
  assert.equal(quota.take("planner", clock.now(), 3), false);
  clock.set(T0 + QUOTA_WINDOW_MS - 1);
  assert.equal(quota.take("planner", clock.now(), 3), false);
  clock.set(T0 + QUOTA_WINDOW_MS); // the event at T0 leaves the window
  assert.equal(quota.take("planner", clock.now(), 3), true);
  // the events at T0+10 s and T0+20 s are still inside
  clock.advance(1);
  assert.equal(quota.take("planner", clock.now(), 3), false);
});

Deno.test("MemoryQuotaStore is a sliding window: a burst across a minute boundary is not doubled", () => {
  const quota = new MemoryQuotaStore();
  const boundary = T0 + QUOTA_WINDOW_MS;
  for (let i = 0; i < 5; i++) assert.ok(quota.take("intake", boundary - 1_000 + i, 5));
  // fixed one-minute buckets would reset here and accept five more
  for (let i = 0; i < 5; i++) assert.equal(quota.take("intake", boundary + 1_000 + i, 5), false);
});

Deno.test("MemoryQuotaStore counts each sender separately", () => {
  const quota = new MemoryQuotaStore();
  assert.ok(quota.take("a", T0, 1));
  assert.equal(quota.take("a", T0, 1), false);
  assert.ok(quota.take("b", T0, 1));
});

Deno.test("MemoryQuotaStore keeps at most limit timestamps per sender", () => {
  const quota = new MemoryQuotaStore();
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) if (quota.take("planner", T0 + i, 100)) accepted++;
  assert.equal(accepted, 100);
  assert.equal(quota.held("planner"), 100);
  // lowering the limit keeps only the newest events that fit
  assert.equal(quota.take("planner", T0 + 10_000, 10), false);
  assert.equal(quota.held("planner"), 10);
});

Deno.test("MemoryQuotaStore refuses a limit that is not a positive integer", () => {
  const quota = new MemoryQuotaStore();
  assert.throws(() => quota.take("planner", T0, 0), RangeError);
  assert.throws(() => quota.take("planner", T0, 1.5), RangeError);
});
