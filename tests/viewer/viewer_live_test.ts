/**
 * The viewer's live parts against a running pipeline: server-sent events of
 * records the supervisor appends while a client listens, and ledger
 * verification of a ledger tampered with under the running viewer; and the
 * ledger follower itself against a real ledger in a temp folder: woken by the
 * folder watcher (no poll can deliver within the test), by the fallback poll
 * alone, and stopped without leaving a timer or watcher. The follower's timers
 * are fake ones the tests tick, and what its watcher delivered is known from the
 * events it has handled, so no test sleeps to see that something did not happen.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import FakeTimers from "@sinonjs/fake-timers";
import { ledgerPath } from "../../core/domain/home/layout.ts";
import { buildEvent, encodeEvent, type EventFields } from "../../core/domain/ledger/events.ts";
import { type Ledger, openLedger } from "../../core/domain/ledger/ledger.ts";
import { type AuditRow, LedgerView } from "../../core/services/viewer/ledger_view.ts";
import {
  LedgerTail,
  type LedgerTailOptions,
  type LiveRecord,
  SETTLE_MS,
} from "../../core/services/viewer/live.ts";
import { articlePayload, injectEnvelope, waitFor } from "../supervisor/_harness.ts";
import { get, processTest, seedLedger, startViewerPipeline } from "./_fixtures.ts";
import { waitFor as waitUntil } from "../_support/wait.ts";

/** Reads an event stream into `text` until the caller cancels it. */
function follow(
  body: ReadableStream<Uint8Array>,
): { text: () => string; stop: () => Promise<void> } {
  let text = "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // cancelled
    }
  })();
  return {
    text: () => text,
    async stop() {
      await reader.cancel().catch(() => {});
      await done;
    },
  };
}

interface SseMessage {
  event: string;
  id?: string;
  data: string;
}

function messages(text: string): SseMessage[] {
  return text.split("\n\n").filter((block) => block.includes("data: ")).map((block) => {
    const field = (name: string) =>
      block.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
    return {
      event: field("event") ?? "message",
      data: field("data")!,
      ...(field("id") ? { id: field("id")! } : {}),
    };
  });
}

Deno.test({
  name: "the event stream delivers a record the supervisor appends while a client listens",
  ...processTest,
  async fn() {
    await using v = await startViewerPipeline({ agents: ["sanitization"] });
    const all = await fetch(`${v.base}/events`);
    assert.equal(all.status, 200);
    const stream = follow(all.body!);
    const unrelated = await fetch(`${v.base}/events?session=${crypto.randomUUID()}`);
    const quiet = follow(unrelated.body!);
    try {
      const { session_id, envelope_id } = await injectEnvelope(v.t, {
        sender: "intake",
        receiver: "sanitization",
        template: "blog_article_intent",
        payload: articlePayload("<b>live</b>"),
      });
      const record = await waitFor(
        () =>
          messages(stream.text()).find((m) =>
            m.event === "record" && JSON.parse(m.data).envelope_id === envelope_id
          ),
        { what: "the validated record on the event stream" },
      );
      const event = JSON.parse(record.data);
      assert.equal(event.type, "validated");
      assert.equal(event.agent, "sanitization");
      assert.equal(event.session_id, session_id);
      assert.equal(record.id, String(event.seq));
      assert.doesNotMatch(record.data, /[<>]/, "the JSON is inert");
      const session = await waitFor(
        () =>
          messages(stream.text()).find((m) =>
            m.event === "session" && JSON.parse(m.data).session === session_id
          ),
        { what: "the session update" },
      );
      assert.equal(JSON.parse(session.data).state, "in progress");
      // a stream filtered to another session receives none of it
      assert.ok(!quiet.text().includes(session_id));
      // a reconnecting client catches up from its last id
      const resumed = await fetch(`${v.base}/events`, {
        headers: { "last-event-id": String(event.seq - 1) },
      });
      const caught = follow(resumed.body!);
      try {
        await waitFor(
          () => messages(caught.text()).some((m) => m.id === String(event.seq)),
          { what: "the caught-up record" },
        );
      } finally {
        await caught.stop();
      }
      // an open stream does not hold the viewer up at shutdown
      await v.sup.supervisor.stop();
      const viewer = v.sup.supervisor.agents().find((a) => a.name === "viewer");
      assert.equal(viewer?.last_exit?.code, 0, JSON.stringify(viewer));
    } finally {
      await stream.stop();
      await quiet.stop();
    }
  },
});

Deno.test({
  name:
    "the ledger page shows a ledger tampered with under the running viewer as broken at the first bad record",
  ...processTest,
  async fn() {
    const seeded: EventFields[] = Array.from({ length: 20 }, (_, i) => ({
      type: "agent_started",
      agent: "supervisor",
      detail: { n: i },
    }));
    await using v = await startViewerPipeline({ prepare: (t) => seedLedger(t, seeded) });
    const verify = async () => {
      const page = await get(v.base, "/ledger");
      const token = /name="csrf" value="([0-9a-f]{64})"/.exec(page.text)![1]!;
      const res = await get(v.base, "/ledger/verify", {
        method: "POST",
        body: `csrf=${token}`,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          cookie: `saoe_viewer_csrf=${token}`,
          origin: v.base,
        },
      });
      assert.equal(res.status, 303);
      return (await get(v.base, "/ledger")).text;
    };
    assert.match(await verify(), /id="verify-outcome" class="ok"/);

    const db = new DatabaseSync(ledgerPath(v.t.home));
    try {
      db.exec("PRAGMA busy_timeout=5000");
      db.prepare("UPDATE records SET bytes = ? WHERE seq = 7").run(
        new TextEncoder().encode(
          '{"type":"agent_started","at":"2026-01-01T00:00:00.000Z","agent":"supervisor","detail":{"n":"<b>edited</b>"}}',
        ),
      );
    } finally {
      db.close();
    }
    const broken = await verify();
    assert.match(broken, /<p id="verify-outcome" class="broken" data-ok="false">broken: /);
    assert.match(
      broken,
      /<p id="verify-first-bad" data-seq="7" data-reason="hash_mismatch">First bad record: seq 7/,
    );
    // the edited record is still shown, as text
    const audit = await get(v.base, "/audit?before=8&limit=1");
    assert.match(audit.text, /&lt;b&gt;edited&lt;\/b&gt;/);
  },
});

const HOUR_MS = 3_600_000;

/** Deno leaves the op and resource sanitizers off by default: these tests need them on. */
const sanitized = { sanitizeOps: true, sanitizeResources: true };

/** A view that counts its reads (the real SQLite reads, only counted). */
class CountingView extends LedgerView {
  reads = 0;
  /** Reads still to answer with nothing, as a read before the commit is visible would. */
  staleReads = 0;
  override after(afterSeq: number, limit: number): Promise<AuditRow[]> {
    this.reads++;
    if (this.staleReads > 0) {
      this.staleReads--;
      return Promise.resolve([]);
    }
    return super.after(afterSeq, limit);
  }
}

function record(n: number): Uint8Array<ArrayBuffer> {
  return encodeEvent(buildEvent({ type: "agent_started", agent: "supervisor", detail: { n } }));
}

/** The follower's wait after a watched change, in these tests (its default). */
const COALESCE_MS = 20;

/** A fake clock for the follower's timers. */
type FakeClock = ReturnType<typeof FakeTimers.createClock>;

/**
 * `Deno.watchFs` for a tail that records, in `handled`, each event the tail has
 * finished handling (it asks for the next event only after handling one).
 */
function observedWatchFs(
  handled: Deno.FsEvent[],
): (path: string, options: { recursive: boolean }) => Deno.FsWatcher {
  return (path, options) => {
    const real = Deno.watchFs(path, options);
    const events = real[Symbol.asyncIterator]();
    let current: Deno.FsEvent | undefined;
    const iterator: AsyncIterableIterator<Deno.FsEvent> = {
      async next() {
        if (current !== undefined) handled.push(current);
        current = undefined;
        const result = await events.next();
        if (result.done !== true) current = result.value;
        return result;
      },
      async return(value?: unknown) {
        real.close();
        return await events.return?.(value) ?? { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return {
      close: () => real.close(),
      [Symbol.asyncIterator]: () => iterator,
      [Symbol.dispose]: () => real.close(),
    };
  };
}

/**
 * Writes `marker` next to the ledger and waits until the tail handled its event:
 * the watcher delivers events in order, so every change made before has been
 * handled by then.
 */
async function handledUpTo(
  t: { dir: string; handled: Deno.FsEvent[] },
  marker = `marker-${crypto.randomUUID()}`,
): Promise<void> {
  await Deno.writeTextFile(join(t.dir, marker), "x");
  await waitUntil(
    () => t.handled.some((e) => e.paths.some((p) => basename(p) === marker)),
    5_000,
    `the tail to handle the event of ${marker}`,
  );
}

/** A real ledger in a temp folder with one record, and a started tail over it. */
async function startTail(
  options: Omit<LedgerTailOptions, "view" | "timers" | "watchFs"> & { clock?: FakeClock },
): Promise<
  AsyncDisposable & {
    dir: string;
    ledger: Ledger;
    view: CountingView;
    tail: LedgerTail;
    received: LiveRecord[];
    /** Watcher events the tail has handled, in order. */
    handled: Deno.FsEvent[];
  }
> {
  const dir = await Deno.makeTempDir({ prefix: "saoe-viewer-tail-" });
  const path = join(dir, "ledger.db");
  const ledger = await openLedger({ path });
  ledger.append([record(0)]);
  const view = new CountingView(path);
  const handled: Deno.FsEvent[] = [];
  const { clock, ...tailOptions } = options;
  const tail = new LedgerTail({
    view,
    log: () => {},
    watchFs: observedWatchFs(handled),
    ...(clock === undefined ? {} : { timers: clock }),
    ...tailOptions,
  });
  const received: LiveRecord[] = [];
  tail.subscribe((r) => received.push(r));
  tail.start();
  await tail.ready;
  assert.equal(tail.lastSeq, 1);
  // the first read has ended once its fallback poll is armed (on the fake clock it was armed at 0)
  if (clock !== undefined) {
    await waitUntil(() => clock.countTimers() >= 1, 5_000, "the fallback poll to be armed");
  }
  return {
    dir,
    ledger,
    view,
    tail,
    received,
    handled,
    async [Symbol.asyncDispose]() {
      const stopped = await stopWithin(tail, 5_000);
      view.close();
      ledger.close();
      await Deno.remove(dir, { recursive: true });
      assert.ok(stopped, "stop() resolved: the watcher loop ended");
    },
  };
}

/** Stops `tail`; false when stop() did not resolve within `ms` (a watcher left open). */
async function stopWithin(tail: LedgerTail, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopped = await Promise.race([
    tail.stop().then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]);
  clearTimeout(timer);
  return stopped;
}

/** Waits for `done()` up to `ms`; false on timeout. */
async function within(ms: number, done: () => boolean): Promise<boolean> {
  return await waitUntil(done, ms, "the condition").then(() => true, () => false);
}

/** Ticks the fake clock one coalescing wait at a time until `done()`, up to `ms` of real time. */
async function tickUntil(clock: FakeClock, ms: number, done: () => boolean): Promise<boolean> {
  return await waitUntil(
    async () => {
      if (done()) return true;
      await clock.tickAsync(COALESCE_MS);
      return done();
    },
    ms,
    "the condition",
  ).then(() => true, () => false);
}

Deno.test({
  name: "LedgerTail delivers an appended record through the folder watcher, with no poll due",
  ...sanitized,
  async fn() {
    await using t = await startTail({ fallbackMs: HOUR_MS });
    assert.ok(t.tail.watching);
    t.ledger.append([record(1)]);
    assert.ok(await within(5_000, () => t.received.length === 1), "the record arrived");
    assert.equal(t.received[0]!.row.seq, 2);
    assert.equal(t.received[0]!.row.event?.detail?.n, 1);
    assert.equal(t.tail.lastSeq, 2);
  },
});

Deno.test({
  name:
    "LedgerTail reads again a moment after a burst, so a commit not yet visible at the first read is not left to the fallback poll",
  ...sanitized,
  async fn() {
    const clock = FakeTimers.createClock();
    await using t = await startTail({ fallbackMs: HOUR_MS, coalesceMs: COALESCE_MS, clock });
    t.view.staleReads = 1;
    t.ledger.append([record(1)]);
    await handledUpTo(t);
    await clock.tickAsync(COALESCE_MS);
    assert.equal(t.received.length, 0, "the first read saw the ledger before the commit");
    // the settle read is due SETTLE_MS after the event, long before the hour-long fallback poll
    await clock.tickAsync(SETTLE_MS);
    await waitUntil(() => t.received.length === 1, 5_000, "the settle read to find the record");
    assert.equal(t.received[0]!.row.seq, 2);
  },
});

Deno.test({
  name: "LedgerTail reads a burst of appends in a few reads, not one per event",
  ...sanitized,
  async fn() {
    const clock = FakeTimers.createClock();
    await using t = await startTail({ fallbackMs: HOUR_MS, coalesceMs: COALESCE_MS, clock });
    const before = t.view.reads;
    for (let i = 1; i <= 100; i++) t.ledger.append([record(i)]);
    // every event of the burst has been handled: it could only arm the coalescing wait
    await handledUpTo(t);
    assert.equal(t.view.reads, before, "nothing is read before the coalescing wait ends");
    assert.ok(
      await tickUntil(clock, 5_000, () => t.received.length === 100),
      "all 100 records arrived",
    );
    assert.deepEqual(
      t.received.map((r) => r.row.seq),
      Array.from({ length: 100 }, (_, i) => i + 2),
    );
    const reads = t.view.reads - before;
    assert.ok(reads >= 1 && reads <= 4, `${reads} reads for a burst of 100 appends`);
  },
});

Deno.test({
  name: "LedgerTail does not read when another file of the ledger's folder changes",
  ...sanitized,
  async fn() {
    const clock = FakeTimers.createClock();
    await using t = await startTail({ fallbackMs: HOUR_MS, coalesceMs: COALESCE_MS, clock });
    // settle: every event of the setup is handled, and a read one of them asked for has run
    await handledUpTo(t);
    await clock.tickAsync(COALESCE_MS);
    const before = t.view.reads;
    for (let i = 0; i < 5; i++) {
      await Deno.writeTextFile(join(t.dir, "status.json"), `{"n":${i}}\n`);
      await Deno.writeTextFile(join(t.dir, "anchor.json"), `{"n":${i}}\n`);
    }
    // every event of those writes is handled; a read one of them had asked for would run now
    await handledUpTo(t);
    await clock.tickAsync(COALESCE_MS);
    assert.equal(t.view.reads, before, "no read for status.json or anchor.json");
    // the watcher still works: a ledger change right after is read
    t.ledger.append([record(1)]);
    assert.ok(await tickUntil(clock, 5_000, () => t.received.length === 1), "the record arrived");
  },
});

Deno.test({
  name: "LedgerTail without a watcher still delivers through the fallback poll",
  ...sanitized,
  async fn() {
    const clock = FakeTimers.createClock();
    await using t = await startTail({ watch: false, fallbackMs: 300, clock });
    assert.equal(t.tail.watching, false);
    const start = clock.now;
    t.ledger.append([record(1), record(2)]);
    await clock.tickAsync(300);
    assert.ok(await within(5_000, () => t.received.length === 2), "the records arrived");
    assert.deepEqual(t.received.map((r) => r.row.seq), [2, 3]);
    // nothing but the poll can deliver them: at most one interval after the append
    assert.ok(clock.now - start <= 300, `${clock.now - start} ms`);
  },
});

Deno.test({
  name: "LedgerTail without a watcher delivers nothing before the fallback poll is due",
  ...sanitized,
  async fn() {
    const clock = FakeTimers.createClock();
    await using t = await startTail({ watch: false, fallbackMs: HOUR_MS, clock });
    const reads = t.view.reads;
    t.ledger.append([record(1)]);
    // a read starts in the timer's callback: none was started up to a millisecond before the poll
    await clock.tickAsync(HOUR_MS - 1);
    assert.equal(t.view.reads, reads, "no watcher, no poll due: no read");
    assert.equal(t.received.length, 0, "no watcher, no poll due: no delivery");
    // the poll, once due, delivers it
    await clock.tickAsync(1);
    assert.ok(await within(5_000, () => t.received.length === 1), "the poll delivered it");
  },
});

Deno.test({
  name:
    "LedgerTail.stop() with a read pending closes the watcher, clears its timers and reads no more",
  ...sanitized,
  async fn() {
    // the test sanitizers fail this test if an op or the watcher outlives stop(); the timers
    // are an hour long on a fake clock, which counts the ones stop() left armed
    const clock = FakeTimers.createClock();
    await using t = await startTail({ fallbackMs: HOUR_MS, coalesceMs: HOUR_MS, clock });
    t.ledger.append([record(1)]);
    // the watcher's event arms the hour-long coalescing timer and the settle re-read,
    // beside the fallback poll
    assert.ok(
      await within(5_000, () => clock.countTimers() === 3),
      "the coalescing and settle timers were armed",
    );
    const reads = t.view.reads;
    assert.ok(await stopWithin(t.tail, 5_000), "stop() resolved: the watcher loop ended");
    assert.equal(t.tail.watching, false);
    assert.equal(clock.countTimers(), 0, "stop() cleared the coalescing and fallback timers");
    t.ledger.append([record(2)]);
    // the watcher loop has ended and no timer is left: two hours on the clock read nothing
    await clock.tickAsync(2 * HOUR_MS);
    assert.equal(t.view.reads, reads, "no read after stop");
    assert.equal(t.received.length, 0);
  },
});

Deno.test({
  name: "LedgerTail refuses a fallback interval that is not a positive number",
  ...sanitized,
  fn() {
    const view = new LedgerView("/nonexistent/ledger.db");
    for (const fallbackMs of [0, -1, NaN, Infinity]) {
      assert.throws(() => new LedgerTail({ view, fallbackMs }), RangeError);
    }
  },
});
