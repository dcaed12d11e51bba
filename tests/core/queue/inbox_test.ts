import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { SaoeError } from "../../../core/primitives/errors.ts";
import { writeFileAtomic } from "../../../core/primitives/fs/atomic_write.ts";
import { retryDead } from "../../../core/domain/queue/dead_letter.ts";
import { type InboxTransport, watchInbox } from "../../../core/domain/queue/inbox.ts";
import { pollInboxForBenchmark } from "../../../scripts/bench/polling_inbox.ts";
import { processEntry } from "../../../core/domain/queue/process.ts";
import type { EntryOrigin } from "../../../core/domain/queue/types.ts";
import {
  entryName,
  listNames,
  makeQueueHome,
  putEntry,
  type QueueHome,
  readSidecar,
  waitFor,
} from "./_fixtures.ts";

interface Running {
  transport: InboxTransport;
  handled: Map<string, number>;
  origins: EntryOrigin["kind"][];
  refused: string[];
  errors: unknown[];
  /** Names of the entries {@linkcode settled} put (left out of `origins`). */
  sentinels: Set<string>;
  stop(): Promise<void>;
}

type Start = typeof watchInbox;

/** Starts a transport whose entries run through the real pipeline, counting handler runs by text. */
async function start(
  q: QueueHome,
  options: { reconcileMs?: number; concurrency?: number; failHandlerOnce?: boolean } = {},
  transport: Start = watchInbox,
): Promise<Running> {
  const controller = new AbortController();
  const handled = new Map<string, number>();
  const origins: EntryOrigin["kind"][] = [];
  const refused: string[] = [];
  const errors: unknown[] = [];
  const sentinels = new Set<string>();
  let failNext = options.failHandlerOnce === true;
  const t = await transport({
    inbox: q.paths.inbox,
    senders: q.senders,
    retryDir: q.paths.retry,
    signal: controller.signal,
    onError: (err) => errors.push(err),
    ...(options.reconcileMs === undefined ? {} : { reconcileMs: options.reconcileMs }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    onEntry: async (path, origin) => {
      await processEntry({
        path,
        origin,
        quarantineDir: q.paths.quarantine,
        deadDir: q.paths.dead,
        validate: async (entry) => {
          if (!sentinels.has(basename(path))) origins.push(entry.origin.kind);
          return await Deno.readTextFile(entry.path);
        },
        handle: (text) => {
          if (failNext) {
            failNext = false;
            return Promise.reject(new Error("transient failure"));
          }
          handled.set(text, (handled.get(text) ?? 0) + 1);
          return Promise.resolve();
        },
        onRefused: (err: SaoeError) => {
          refused.push(err.code);
        },
      });
    },
  });
  return {
    transport: t,
    handled,
    origins,
    refused,
    errors,
    sentinels,
    stop: async () => {
      controller.abort();
      await t.closed;
    },
  };
}

/**
 * Waits until the queue is idle, puts one more entry and waits until it ran and
 * the queue is idle again. Events and scan results come in order and an entry
 * waits behind those reported before it, so whatever a late event or scan of an
 * earlier entry would have run has run by then.
 */
async function settled(q: QueueHome, r: Running): Promise<void> {
  await waitFor(() => r.transport.depth() === 0, 5000, "the queue to be idle");
  const text = `sentinel-${crypto.randomUUID()}`;
  const name = entryName();
  r.sentinels.add(name);
  await writeFileAtomic(join(q.paths.inbox, "intake", name), new TextEncoder().encode(text));
  await waitFor(
    () => r.handled.has(text) && r.transport.depth() === 0,
    5000,
    "the entry put after everything else",
  );
}

Deno.test("watchInbox() processes a file present before it started exactly once", async () => {
  await using q = await makeQueueHome();
  await putEntry(q, "intake", "early");
  const r = await start(q);
  try {
    await waitFor(() => r.handled.has("early"), 5000, "the early entry");
    // late events and a second scan get their chance to double-process
    await r.transport.scan();
    await settled(q, r);
    assert.equal(r.handled.get("early"), 1);
    assert.deepEqual(r.errors, []);
  } finally {
    await r.stop();
  }
});

Deno.test("watchInbox() processes a renamed-in file once although both scan and watcher see it", async () => {
  await using q = await makeQueueHome();
  const r = await start(q);
  try {
    await putEntry(q, "sanitization", "arrived");
    // the scan reports the same file while its event is in flight or just handled
    await r.transport.scan();
    await waitFor(() => r.handled.has("arrived"), 5000, "the entry");
    await r.transport.scan();
    await settled(q, r);
    assert.equal(r.handled.get("arrived"), 1);
    assert.deepEqual(r.origins, ["inbox"]);
  } finally {
    await r.stop();
  }
});

Deno.test("watchInbox() processes 200 concurrently renamed files exactly once each", async () => {
  await using q = await makeQueueHome();
  const r = await start(q, { concurrency: 4 });
  try {
    const texts = Array.from({ length: 200 }, (_, i) => `entry-${i}`);
    await Promise.all(texts.map((text, i) => putEntry(q, q.senders[i % 2]!, text)));
    await r.transport.scan();
    await waitFor(() => r.handled.size === 200, 10000, "200 entries");
    await r.transport.scan();
    await settled(q, r);
    for (const text of texts) assert.equal(r.handled.get(text), 1, text);
    assert.deepEqual(await listNames(q.paths.dead), []);
    assert.deepEqual(await listNames(q.paths.quarantine), []);
    assert.equal(r.transport.depth(), 0);
  } finally {
    await r.stop();
  }
});

Deno.test("watchInbox() refuses a planted symlink and hard link and still processes the next file", async () => {
  await using q = await makeQueueHome();
  const secret = join(q.root, "secret");
  await Deno.writeTextFile(secret, "do not read");
  const r = await start(q, { reconcileMs: 20 });
  try {
    await Deno.symlink(secret, join(q.paths.inbox, "intake", entryName()));
    await Deno.link(secret, join(q.paths.inbox, "intake", entryName()));
    await putEntry(q, "intake", "valid");
    await waitFor(() => r.handled.has("valid") && r.refused.length === 2, 5000, "the refusals");
    assert.deepEqual(r.refused, ["unsafe_path", "unsafe_path"]);
    assert.equal(await Deno.readTextFile(secret), "do not read");
    assert.equal((await Deno.lstat(secret)).nlink, 1);
    assert.equal((await listNames(q.paths.dead)).length, 2, "two sidecars, no links kept");
    assert.deepEqual(await listNames(join(q.paths.inbox, "intake")), []);
  } finally {
    await r.stop();
  }
});

/** A watcher whose entries fail until `allow()`; counts successes and records each attempt. */
async function stuckWatcher(q: QueueHome, reconcileMs: number) {
  const controller = new AbortController();
  let allowed = false;
  let succeeded = 0;
  const attempted: string[] = [];
  const transport = await watchInbox({
    inbox: q.paths.inbox,
    senders: q.senders,
    signal: controller.signal,
    reconcileMs,
    onError: () => {},
    onEntry: async (path) => {
      attempted.push(basename(path));
      // failing leaves the file in place: once the events are spent, only a scan finds it again
      if (!allowed) throw new SaoeError("io_error", "Cannot quarantine: disk busy");
      await Deno.remove(path);
      succeeded++;
    },
  });
  return {
    allow: () => {
      allowed = true;
    },
    succeeded: () => succeeded,
    attempted,
    depth: () => transport.depth(),
    stop: async () => {
      controller.abort();
      await transport.closed;
    },
  };
}

Deno.test("watchInbox() reconciliation finds an entry no event reports again", async () => {
  await using q = await makeQueueHome();
  const slow = await stuckWatcher(q, 60_000);
  const fast = await stuckWatcher(q, 30);
  try {
    await putEntry(q, "intake");
    // let the events pass: a later entry's event was handled after them, and nothing waits
    const later = await putEntry(q, "sanitization");
    await waitFor(
      () => slow.attempted.includes(later) && slow.depth() === 0,
      5000,
      "the slow watcher to try both entries",
    );
    slow.allow();
    assert.equal(slow.succeeded(), 0, "without a scan the entry stays unnoticed");
    fast.allow();
    await waitFor(() => fast.succeeded() === 2, 5000, "the reconciliation scan");
    assert.equal(slow.succeeded(), 0, "without a scan the entry stays unnoticed");
  } finally {
    await slow.stop();
    await fast.stop();
  }
});

Deno.test("watchInbox() creates missing sender folders and closes cleanly when aborted", async () => {
  await using q = await makeQueueHome();
  await Deno.remove(join(q.paths.inbox, "intake"));
  const r = await start(q);
  assert.ok((await Deno.lstat(join(q.paths.inbox, "intake"))).isDirectory);
  // the test sanitizers fail this test if the watcher or the timer outlive `closed`
  await r.stop();
  await putEntry(q, "intake", "after");
  // a transport started now processes the entry: a watcher left running would have seen it too
  const next = await start(q);
  try {
    await waitFor(() => next.handled.has("after"), 5000, "the entry in a new transport");
  } finally {
    await next.stop();
  }
  assert.equal(r.handled.size, 0);
});

Deno.test("a retried handler_error entry runs again through retry/ as a retry", async () => {
  await using q = await makeQueueHome();
  const r = await start(q, { failHandlerOnce: true });
  try {
    const name = await putEntry(q, "intake", "flaky");
    await waitFor(() => r.origins.length === 1, 5000, "the first run");
    const key = name.slice(0, -5);
    await waitFor(() => r.transport.depth() === 0);
    assert.equal((await readSidecar(q.paths.dead, key)).code, "handler_error");
    const target = await retryDead({
      deadDir: q.paths.dead,
      inbox: q.paths.inbox,
      retryDir: q.paths.retry,
      key,
    });
    assert.equal(target, join(q.paths.retry, name));
    await waitFor(() => r.handled.get("flaky") === 1, 5000, "the retried run");
    assert.deepEqual(r.origins, ["inbox", "retry"]);
    assert.deepEqual(await listNames(q.paths.dead), []);
    assert.deepEqual(await listNames(q.paths.retry), []);
  } finally {
    await r.stop();
  }
});

Deno.test("pollInboxForBenchmark() offers the same contract as the watcher", async () => {
  await using q = await makeQueueHome();
  await putEntry(q, "intake", "early");
  const r = await start(q, {}, (options) => pollInboxForBenchmark({ ...options, intervalMs: 10 }));
  try {
    await putEntry(q, "sanitization", "late");
    await waitFor(() => r.handled.has("early") && r.handled.has("late"), 5000, "both entries");
    // later polls get their chance to find them again
    await settled(q, r);
    assert.equal(r.handled.get("early"), 1);
    assert.equal(r.handled.get("late"), 1);
  } finally {
    await r.stop();
  }
});
