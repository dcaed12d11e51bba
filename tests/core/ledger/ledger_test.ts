import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import { toBase64 } from "../../../core/primitives/crypto/bytes.ts";
import { leafHash } from "../../../core/primitives/merkle/hash.ts";
import { rootOf } from "../../../core/primitives/merkle/tree.ts";
import { parseNote } from "../../../core/primitives/note/note.ts";
import { chainHash, GENESIS_HASH } from "../../../core/domain/ledger/chain_hash.ts";
import {
  verifyLedgerCheckpoint,
  verifyWitnessedCheckpoint,
} from "../../../core/domain/ledger/checkpoint.ts";
import { lockPathFor, openLedger } from "../../../core/domain/ledger/ledger.ts";
import {
  eventBytes,
  fill,
  ledgerDir,
  newKey,
  openWriter,
  ORIGIN,
  removeDatabase,
  startTestWitness,
  trusted,
  verify,
} from "./_fixtures.ts";

Deno.test("openLedger() appends 10,000 events in batches and the ledger verifies clean", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    await using witness = await startTestWitness(d, key);
    const ledger = await openWriter(d, key);
    fill(ledger, 5_000, 100);
    assert.equal(await witness.submit(ledger, await ledger.checkpoint()), true);
    fill(ledger, 5_000, 250);
    assert.equal(await witness.submit(ledger, await ledger.checkpoint()), true);
    assert.equal(ledger.head().size, 10_000);
    const root = ledger.head().root;
    ledger.close();
    const result = await verify(d, key, witness);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.size, 10_000);
    assert.equal(result.checked, 10_000);
    assert.equal(result.checkpoints, 2); // the two stored; the witnessed head is counted apart
    assert.equal(result.witnessedSize, 10_000);
    assert.equal(result.unwitnessed, 0);
    assert.equal(result.root, root);
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

Deno.test("append() stores batches of every size around the insert width once, in order, with the chain and tree of an independent SHA-256", async () => {
  const d = await ledgerDir();
  try {
    const ledger = await openLedger({ path: d.path });
    const sizes = [1, 49, 50, 51, 99, 100, 101, 237];
    const all: Uint8Array[] = [];
    for (const size of sizes) {
      const batch = Array.from({ length: size }, (_, i) => eventBytes(all.length + i));
      const first = all.length + 1;
      assert.deepEqual(ledger.append(batch), batch.map((_, i) => first + i));
      all.push(...batch);
    }
    const records = ledger.read({ afterSeq: 0, limit: 10_000 });
    assert.deepEqual(records.map((r) => r.seq), all.map((_, i) => i + 1));
    let prev: Uint8Array = new Uint8Array(32);
    const leaves: Uint8Array[] = [];
    records.forEach((r, i) => {
      assert.deepEqual(r.bytes, all[i]);
      assert.deepEqual(r.prevHash, prev);
      const hash = createHash("sha256").update(prev).update(r.bytes).digest();
      assert.deepEqual(r.hash, new Uint8Array(hash));
      prev = r.hash;
      leaves.push(
        new Uint8Array(createHash("sha256").update(Uint8Array.of(0)).update(r.bytes).digest()),
      );
    });
    assert.equal(ledger.head().root, rootOf(leaves).toHex());
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
    const writer = await openWriter(d, key);
    fill(writer, 300);
    const reader = await openLedger({ path: d.path, readOnly: true });
    assert.equal(reader.readOnly, true);
    assert.equal(reader.ledgerId, writer.ledgerId);
    assert.equal(reader.head().size, 300);
    fill(writer, 200);
    await writer.checkpoint();
    assert.deepEqual(reader.head(), writer.head());
    assert.deepEqual(reader.root(500), writer.root(500));
    assert.equal(reader.checkpointAt(500), writer.checkpointAt(500));
    assert.equal(reader.read({ afterSeq: 450, limit: 100 }).length, 50);
    assert.throws(() => reader.append([eventBytes(1)]), TypeError);
    await assert.rejects(reader.checkpoint(), TypeError);
    await assert.rejects(reader.recordWitnessed({ treeSize: 500, note: "x" }), TypeError);
    // verification runs beside the open writer
    const result = await verify(d, key);
    assert.equal(result.ok, true, result.message);
    reader.close();
    writer.close();
  } finally {
    await d.cleanup();
  }
});

Deno.test("checkpoint() stores a C2SP checkpoint note the log key signs over the Merkle root of the records", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const ledger = await openWriter(d, key);
    fill(ledger, 42);
    const cp = await ledger.checkpoint();
    assert.equal(cp.treeSize, 42);
    assert.equal(cp.headHash, ledger.head().hash);
    assert.equal(cp.root, ledger.head().root);
    assert.equal(ledger.checkpointAt(42), cp.note);
    assert.equal(ledger.checkpointAt(41), undefined);
    // the root is that of the records' exact bytes, computed here independently
    const leaves = ledger.read({ limit: 100 }).map((r) => leafHash(r.bytes));
    assert.equal(cp.root, rootOf(leaves).toHex());
    assert.deepEqual(ledger.root(42), rootOf(leaves));
    // origin, size and base64 root, then one signature line by the origin's key
    const note = parseNote(cp.note);
    assert.equal(note.text, `${ORIGIN}\n42\n${toBase64(rootOf(leaves))}\n`);
    assert.deepEqual(note.signatures.map((s) => s.name), [ORIGIN]);
    const head = await verifyLedgerCheckpoint(cp.note, { origin: ORIGIN, logKeys: trusted(key) });
    assert.equal(head.size, 42);
    assert.equal(head.root.toHex(), cp.root);
    await assert.rejects(
      verifyLedgerCheckpoint(cp.note, { origin: ORIGIN, logKeys: trusted(await newKey()) }),
      (err: unknown) => isSaoeError(err, "checkpoint_signature"),
    );
    // nothing is written outside the ledger until a witness cosigned
    await assert.rejects(Deno.lstat(d.witnessedPath), Deno.errors.NotFound);
    assert.equal(ledger.latestWitnessed(), undefined);
    ledger.close();
  } finally {
    await d.cleanup();
  }
});

Deno.test("recordWitnessed() stores the cosigned note and writes the same bytes to the operators' copy, never replaced by an older one", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    await using witness = await startTestWitness(d, key);
    const ledger = await openWriter(d, key);
    fill(ledger, 10);
    const first = await ledger.checkpoint();
    assert.equal(await witness.submit(ledger, first), true);
    const firstNote = ledger.latestWitnessed()!.note;
    assert.equal(await Deno.readTextFile(d.witnessedPath), firstNote);
    fill(ledger, 5);
    const second = await ledger.checkpoint();
    assert.equal(await witness.submit(ledger, second), true);
    const latest = ledger.latestWitnessed();
    assert.equal(latest?.treeSize, 15);
    assert.equal(await Deno.readTextFile(d.witnessedPath), latest!.note);
    // the log's signature and the witness's cosignature verify under the policy
    const head = await verifyWitnessedCheckpoint(latest!.note, {
      origin: ORIGIN,
      logKeys: trusted(key),
      policy: witness.policy,
    });
    assert.equal(head.size, 15);
    assert.equal(head.root.toHex(), second.root);
    assert.deepEqual(head.cosigners.map((c) => c.name), [witness.server.name]);
    // a late answer for the older size is stored but leaves the copy naming the larger one
    await ledger.recordWitnessed({ treeSize: 10, note: firstNote });
    assert.equal(ledger.latestWitnessed()?.treeSize, 15);
    assert.equal(await Deno.readTextFile(d.witnessedPath), latest!.note);
    // no temp file is left beside the copy
    const names: string[] = [];
    for await (const entry of Deno.readDir(`${d.dir}/audit`)) names.push(entry.name);
    assert.deepEqual(names.filter((n) => !n.startsWith("ledger.")), ["checkpoint"]);
    ledger.close();
  } finally {
    await d.cleanup();
  }
});

Deno.test("checkpoint() refuses without a key, and on an empty ledger", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const keyless = await openLedger({ path: d.path, origin: ORIGIN });
    keyless.append([eventBytes(1)]);
    await assert.rejects(
      keyless.checkpoint(),
      (err: unknown) => isSaoeError(err, "bad_config") && err.message.includes("checkpoint key"),
    );
    keyless.close();
    const nameless = await openLedger({ path: d.path, checkpointKey: key });
    await assert.rejects(
      nameless.checkpoint(),
      (err: unknown) => isSaoeError(err, "bad_config") && err.message.includes("origin"),
    );
    nameless.close();
    const other = await ledgerDir();
    try {
      const empty = await openWriter(other, key);
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
    const ledger = await openWriter(d, key);
    fill(ledger, 3);
    const [a, b] = await Promise.all([ledger.checkpoint(), ledger.checkpoint()]);
    assert.equal(a.note, b.note);
    assert.deepEqual(a, b);
    ledger.close();
    const result = await verify(d, key);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.checkpoints, 1); // the one stored (there is no anchor any more)
  } finally {
    await d.cleanup();
  }
});

Deno.test("verifyLedger() passes an empty or missing ledger that no witness vouches for yet", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const missing = await verify(d, key);
    assert.equal(missing.ok, true, missing.message);
    assert.equal(missing.size, 0);
    assert.equal(missing.witnessedSize, 0);
    (await openLedger({ path: d.path })).close();
    const result = await verify(d, key);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.size, 0);
    // with a witness that has cosigned nothing yet, the same
    await using witness = await startTestWitness(d, key);
    const asked = await verify(d, key, witness);
    assert.equal(asked.ok, true, asked.message);
    assert.equal(asked.witnessedSize, 0);
    await removeDatabase(d);
    const gone = await verify(d, key, witness);
    assert.equal(gone.ok, true, gone.message);
  } finally {
    await d.cleanup();
  }
});
