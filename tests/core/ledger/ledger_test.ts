import assert from "node:assert/strict";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import { chainHash, GENESIS_HASH } from "../../../core/domain/ledger/chain_hash.ts";
import { verifyCheckpoint } from "../../../core/domain/ledger/checkpoint.ts";
import { lockPathFor, openLedger } from "../../../core/domain/ledger/ledger.ts";
import { systemClock } from "../../../core/primitives/time/clock.ts";
import { eventBytes, fill, ledgerDir, newKey, trusted, verify } from "./_fixtures.ts";

Deno.test("openLedger() appends 10,000 events in batches and the ledger verifies clean", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const ledger = await openLedger({ path: d.path, anchorPath: d.anchorPath, checkpointKey: key });
    fill(ledger, 5_000, 100);
    await ledger.checkpoint();
    fill(ledger, 5_000, 250);
    await ledger.checkpoint();
    assert.equal(ledger.head().size, 10_000);
    ledger.close();
    const result = await verify(d, key);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.size, 10_000);
    assert.equal(result.checked, 10_000);
    assert.equal(result.checkpoints, 3); // two stored, one anchor
    assert.equal(result.firstBad, undefined);
  } finally {
    await d.cleanup();
  }
});

Deno.test("append() assigns consecutive seqs and chains each hash over the exact bytes", async () => {
  const d = await ledgerDir();
  try {
    const ledger = await openLedger({ path: d.path });
    const a = eventBytes(1);
    const b = eventBytes(2);
    assert.deepEqual(ledger.append([a]), [1]);
    assert.deepEqual(ledger.append([b, a]), [2, 3]);
    const records = ledger.read({ afterSeq: 0, limit: 10 });
    assert.deepEqual(records.map((r) => r.seq), [1, 2, 3]);
    assert.deepEqual(records[0]!.bytes, a);
    assert.deepEqual(records[0]!.prevHash, GENESIS_HASH);
    const h1 = chainHash(GENESIS_HASH, a);
    assert.deepEqual(records[0]!.hash, h1);
    assert.deepEqual(records[1]!.prevHash, h1);
    assert.deepEqual(records[1]!.hash, chainHash(h1, b));
    assert.deepEqual(ledger.read({ afterSeq: 2, limit: 1 }).map((r) => r.seq), [3]);
    assert.equal(ledger.head().hash, records[2]!.hash.toHex());
    ledger.close();
  } finally {
    await d.cleanup();
  }
});

Deno.test("append() refuses a whole batch when one event is not a strict JSON object", async () => {
  const d = await ledgerDir();
  try {
    const ledger = await openLedger({ path: d.path });
    ledger.append([eventBytes(1)]);
    const dup = new TextEncoder().encode('{"a":1,"a":2}');
    assert.throws(
      () => ledger.append([eventBytes(2), dup]),
      (err: unknown) => isSaoeError(err, "duplicate_key") && err.message.includes("event 1"),
    );
    assert.throws(
      () => ledger.append([new TextEncoder().encode("[1]")]),
      (err: unknown) => isSaoeError(err, "parse_error"),
    );
    assert.throws(
      () => ledger.append([new Uint8Array(64 * 1024 + 1).fill(0x20)]),
      (err: unknown) => isSaoeError(err, "size_exceeded"),
    );
    assert.equal(ledger.head().size, 1);
    ledger.close();
  } finally {
    await d.cleanup();
  }
});

Deno.test("openLedger() refuses a second writer while the first is open, naming the lock file", async () => {
  const d = await ledgerDir();
  try {
    const first = await openLedger({ path: d.path });
    await assert.rejects(
      openLedger({ path: d.path }),
      (err: unknown) =>
        isSaoeError(err, "io_error") && err.message.includes(lockPathFor(d.path)) &&
        err.message.includes(`pid ${Deno.pid}`),
    );
    first.append([eventBytes(1)]);
    first.close();
    const second = await openLedger({ path: d.path });
    assert.equal(second.head().size, 1);
    second.close();
  } finally {
    await d.cleanup();
  }
});

Deno.test("openLedger() is not blocked by a lock file a dead writer left behind", async () => {
  const d = await ledgerDir();
  try {
    await Deno.mkdir(`${d.dir}/audit`);
    await Deno.writeTextFile(lockPathFor(d.path), "pid 999999 since 2026-01-01T00:00:00Z\n");
    const ledger = await openLedger({ path: d.path });
    assert.equal(ledger.head().size, 0);
    ledger.close();
  } finally {
    await d.cleanup();
  }
});

Deno.test("openLedger() refuses a database path that is a symlink", async () => {
  const d = await ledgerDir();
  try {
    await Deno.mkdir(`${d.dir}/audit`);
    await Deno.writeTextFile(`${d.dir}/elsewhere.db`, "");
    await Deno.symlink(`${d.dir}/elsewhere.db`, d.path);
    await assert.rejects(
      openLedger({ path: d.path }),
      (err: unknown) => isSaoeError(err, "unsafe_path"),
    );
  } finally {
    await d.cleanup();
  }
});

Deno.test("a read-only ledger reads concurrently with the writer and never writes", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const writer = await openLedger({ path: d.path, anchorPath: d.anchorPath, checkpointKey: key });
    fill(writer, 300);
    const reader = await openLedger({ path: d.path, readOnly: true });
    assert.equal(reader.readOnly, true);
    assert.equal(reader.ledgerId, writer.ledgerId);
    assert.equal(reader.head().size, 300);
    fill(writer, 200);
    await writer.checkpoint();
    assert.deepEqual(reader.head(), writer.head());
    assert.equal(reader.read({ afterSeq: 450, limit: 100 }).length, 50);
    assert.throws(() => reader.append([eventBytes(1)]), TypeError);
    await assert.rejects(reader.checkpoint(), TypeError);
    // verification runs beside the open writer
    const result = await verify(d, key);
    assert.equal(result.ok, true, result.message);
    reader.close();
    writer.close();
  } finally {
    await d.cleanup();
  }
});

Deno.test("checkpoint() stores the signed statement and writes the same bytes to the anchor file", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const ledger = await openLedger({ path: d.path, anchorPath: d.anchorPath, checkpointKey: key });
    fill(ledger, 42);
    const cp = await ledger.checkpoint();
    assert.equal(cp.treeSize, 42);
    assert.equal(cp.headHash, ledger.head().hash);
    assert.deepEqual(await Deno.readFile(d.anchorPath), cp.statement);
    const payload = await verifyCheckpoint(cp.statement, {
      keys: trusted(key),
      clock: systemClock,
    });
    assert.equal(payload.tree_size, 42);
    assert.equal(payload.head_hash, cp.headHash);
    assert.equal(payload.ledger_id, ledger.ledgerId);
    // no temp file is left beside the anchor
    const names = [];
    for await (const entry of Deno.readDir(`${d.dir}/anchor`)) names.push(entry.name);
    assert.deepEqual(names, ["checkpoint.json"]);
    ledger.close();
  } finally {
    await d.cleanup();
  }
});

Deno.test("checkpoint() refuses without a key, and on an empty ledger", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const keyless = await openLedger({ path: d.path, anchorPath: d.anchorPath });
    keyless.append([eventBytes(1)]);
    await assert.rejects(keyless.checkpoint(), (err: unknown) => isSaoeError(err, "bad_config"));
    keyless.close();
    const other = await ledgerDir();
    try {
      const empty = await openLedger({
        path: other.path,
        anchorPath: other.anchorPath,
        checkpointKey: key,
      });
      await assert.rejects(empty.checkpoint(), (err: unknown) => isSaoeError(err, "bad_config"));
      empty.close();
    } finally {
      await other.cleanup();
    }
  } finally {
    await d.cleanup();
  }
});

Deno.test("openLedger() refuses a read-only open of a ledger that does not exist", async () => {
  const d = await ledgerDir();
  try {
    await assert.rejects(
      openLedger({ path: d.path, readOnly: true }),
      (err: unknown) => isSaoeError(err, "io_error") && err.message.includes(d.path),
    );
  } finally {
    await d.cleanup();
  }
});

Deno.test("checkpoint() without new records re-uses the stored checkpoint", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const ledger = await openLedger({ path: d.path, anchorPath: d.anchorPath, checkpointKey: key });
    fill(ledger, 3);
    const [a, b] = await Promise.all([ledger.checkpoint(), ledger.checkpoint()]);
    assert.deepEqual(a.statement, b.statement);
    ledger.close();
    const result = await verify(d, key);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.checkpoints, 2); // one stored, the anchor
  } finally {
    await d.cleanup();
  }
});

Deno.test("verifyLedger() passes an empty ledger that has no anchor yet", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    (await openLedger({ path: d.path })).close();
    const result = await verify(d, key);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.size, 0);
  } finally {
    await d.cleanup();
  }
});
