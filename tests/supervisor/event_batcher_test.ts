import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { EventBatcher } from "../../core/services/supervisor/event_batcher.ts";

const enc = new TextEncoder();

Deno.test("EventBatcher appends events pushed together in one batch, in order", () => {
  const clock = FakeTimers.createClock();
  const batches: string[][] = [];
  const batcher = new EventBatcher({
    ledger: {
      append: (events) => (batches.push(events.map((e) => new TextDecoder().decode(e))), []),
    },
    delayMs: 5,
    timers: clock,
  });
  for (let i = 0; i < 5; i++) batcher.push(enc.encode(`{"n":${i}}`));
  assert.equal(batches.length, 0, "nothing is written before the delay");
  clock.tick(4);
  assert.equal(batches.length, 0, "nothing is written before the delay");
  clock.tick(1);
  assert.deepEqual(batches, [['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']]);
  batcher.close();
  assert.equal(clock.countTimers(), 0);
});

Deno.test("EventBatcher writes at once when a batch is full", () => {
  const sizes: number[] = [];
  const batcher = new EventBatcher({
    ledger: { append: (events) => (sizes.push(events.length), []) },
    delayMs: 10_000,
    maxBatch: 3,
  });
  for (let i = 0; i < 7; i++) batcher.push(enc.encode("{}"));
  assert.deepEqual(sizes, [3, 3]);
  batcher.close();
  assert.deepEqual(sizes, [3, 3, 1]);
});

Deno.test("EventBatcher keeps events when an append fails and writes them later", () => {
  let fail = true;
  const written: number[] = [];
  const errors: unknown[] = [];
  const batcher = new EventBatcher({
    ledger: {
      append: (events) => {
        if (fail) throw new Error("disk full");
        written.push(events.length);
        return [];
      },
    },
    onError: (e) => errors.push(e),
  });
  batcher.push(enc.encode("{}"));
  batcher.push(enc.encode("{}"));
  assert.equal(batcher.flush(), false);
  assert.equal(batcher.pending, 2);
  assert.equal(errors.length, 1);
  fail = false;
  assert.equal(batcher.close(), true);
  assert.deepEqual(written, [2]);
});

Deno.test("EventBatcher retries a failed append a second later on its own", () => {
  const clock = FakeTimers.createClock();
  let fail = true;
  const written: number[] = [];
  const errors: unknown[] = [];
  const batcher = new EventBatcher({
    ledger: {
      append: (events) => {
        if (fail) throw new Error("disk full");
        written.push(events.length);
        return [];
      },
    },
    delayMs: 2,
    onError: (e) => errors.push(e),
    timers: clock,
  });
  batcher.push(enc.encode("{}"));
  clock.tick(2);
  assert.equal(errors.length, 1, "the first append failed");
  assert.equal(batcher.pending, 1, "the event is kept");
  fail = false;
  clock.tick(999);
  assert.deepEqual(written, [], "no retry before a second");
  clock.tick(1);
  assert.deepEqual(written, [1]);
  assert.equal(batcher.pending, 0);
  batcher.close();
});

Deno.test("EventBatcher holds new events back while a checkpoint is written", () => {
  const written: number[] = [];
  const batcher = new EventBatcher({
    ledger: { append: (events) => (written.push(events.length), []) },
    maxBatch: 1,
  });
  batcher.push(enc.encode("{}"));
  const release = batcher.hold();
  batcher.push(enc.encode("{}"));
  batcher.push(enc.encode("{}"));
  assert.deepEqual(written, [1], "only the event pushed before the hold");
  release();
  batcher.close();
  assert.deepEqual(written, [1, 1, 1]);
});
