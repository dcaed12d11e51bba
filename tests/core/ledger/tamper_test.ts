/**
 * Each tamper kind is done as an attacker would: a second, real SQLite connection
 * editing the database file directly, after the writer closed it.
 */
import assert from "node:assert/strict";
import type { SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { chainHash, GENESIS_HASH } from "../../../core/domain/ledger/chain_hash.ts";
import { signCheckpoint } from "../../../core/domain/ledger/checkpoint.ts";
import { openLedger } from "../../../core/domain/ledger/ledger.ts";
import { systemClock } from "../../../core/primitives/time/clock.ts";
import {
  attacker,
  buildLedger,
  type LedgerDir,
  ledgerDir,
  newKey,
  rawRecord,
  verify,
} from "./_fixtures.ts";

/** 250 records; checkpoints at 100 and 200 (the anchor holds the one at 200). */
async function withLedger(fn: (d: LedgerDir, key: SigningKey) => Promise<void>): Promise<void> {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    await buildLedger(d, key, { size: 250, checkpointsAt: [100, 200] });
    const clean = await verify(d, key);
    assert.equal(clean.ok, true, clean.message);
    await fn(d, key);
  } finally {
    await d.cleanup();
  }
}

Deno.test("verifyLedger() names an edited record: one byte changed is hash_mismatch at its seq", async () => {
  await withLedger(async (d, key) => {
    const db = attacker(d);
    const bytes = new Uint8Array(rawRecord(db, 142).bytes);
    bytes[20] = bytes[20]! ^ 0x01;
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 142").run(bytes);
    db.close();
    const result = await verify(d, key);
    assert.equal(result.ok, false);
    assert.deepEqual(result.firstBad, { seq: 142, reason: "hash_mismatch" });
    assert.equal(result.checked, 141);
    assert.equal(
      result.message,
      "Ledger broken at seq 142: hash does not match its bytes (edited record)",
    );
  });
});

Deno.test("verifyLedger() names a deleted row as seq_gap at its seq", async () => {
  await withLedger(async (d, key) => {
    const db = attacker(d);
    db.prepare("DELETE FROM records WHERE seq = 77").run();
    db.close();
    const result = await verify(d, key);
    assert.deepEqual(result.firstBad, { seq: 77, reason: "seq_gap" });
    assert.match(result.message, /^Ledger broken at seq 77: the record is missing/);
  });
});

Deno.test("verifyLedger() names reordered rows: two rows' contents swapped", async () => {
  await withLedger(async (d, key) => {
    const db = attacker(d);
    const a = rawRecord(db, 10);
    const b = rawRecord(db, 11);
    const update = db.prepare(
      "UPDATE records SET prev_hash = ?, hash = ?, bytes = ? WHERE seq = ?",
    );
    update.run(b.prev_hash, b.hash, b.bytes, 10);
    update.run(a.prev_hash, a.hash, a.bytes, 11);
    db.close();
    const result = await verify(d, key);
    assert.deepEqual(result.firstBad, { seq: 10, reason: "prev_hash_mismatch" });
    assert.match(result.message, /^Ledger broken at seq 10: prev_hash does not match/);
  });
});

Deno.test("verifyLedger() names reordered rows: only the event bytes of two rows swapped", async () => {
  await withLedger(async (d, key) => {
    const db = attacker(d);
    const a = rawRecord(db, 30);
    const b = rawRecord(db, 31);
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 30").run(b.bytes);
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 31").run(a.bytes);
    db.close();
    const result = await verify(d, key);
    assert.deepEqual(result.firstBad, { seq: 30, reason: "hash_mismatch" });
  });
});

/** Re-computes every hash from `from` on, as an attacker who knows the algorithm can. */
function rechain(d: LedgerDir, from: number): void {
  const db = attacker(d);
  let prev = from === 1 ? GENESIS_HASH : rawRecord(db, from - 1).hash;
  const rows = db.prepare("SELECT seq, bytes FROM records WHERE seq >= ? ORDER BY seq").all(from);
  const update = db.prepare("UPDATE records SET prev_hash = ?, hash = ? WHERE seq = ?");
  db.exec("BEGIN IMMEDIATE");
  for (const row of rows as unknown as { seq: number; bytes: Uint8Array }[]) {
    const hash = chainHash(prev, row.bytes);
    update.run(prev, hash, row.seq);
    prev = hash;
  }
  db.exec("COMMIT");
  db.close();
}

Deno.test("verifyLedger() catches a chain re-computed without the key as checkpoint_mismatch", async () => {
  await withLedger(async (d, key) => {
    const db = attacker(d);
    const edited = new TextEncoder().encode(
      '{"type":"published","at":"2026-01-01T00:00:00Z","agent":"deployment"}',
    );
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 150").run(edited);
    db.close();
    rechain(d, 150);
    const result = await verify(d, key);
    assert.equal(result.ok, false);
    // the checkpoint at 100 still holds: the break lies after it, up to the one at 200
    assert.deepEqual(result.firstBad, { seq: 101, reason: "checkpoint_mismatch" });
    assert.equal(result.checked, 200);
    assert.match(result.message, /^Ledger broken at seq 101: records 101 to 200 do not match/);
    assert.match(result.message, /first record after the last good checkpoint/);
  });
});

Deno.test("verifyLedger() still catches a re-computed chain when the stored checkpoints are deleted too", async () => {
  await withLedger(async (d, key) => {
    const db = attacker(d);
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 5").run(
      new TextEncoder().encode('{"forged":true}'),
    );
    db.prepare("DELETE FROM checkpoints").run();
    db.close();
    rechain(d, 5);
    const result = await verify(d, key);
    assert.deepEqual(result.firstBad, { seq: 1, reason: "checkpoint_mismatch" });
    assert.match(result.message, /anchor checkpoint/);
  });
});

Deno.test("verifyLedger() detects a tail truncated past the last checkpoint through the anchor", async () => {
  await withLedger(async (d, key) => {
    const db = attacker(d);
    db.prepare("DELETE FROM records WHERE seq > 150").run();
    db.prepare("DELETE FROM checkpoints WHERE tree_size > 150").run();
    db.close();
    const result = await verify(d, key);
    assert.equal(result.ok, false);
    assert.deepEqual(result.firstBad, { seq: 151, reason: "truncated" });
    assert.equal(result.size, 150);
    assert.match(result.message, /^Ledger truncated at seq 151: .* covers 200 records/);
  });
});

Deno.test("verifyLedger() refuses a checkpoint forged with another key as checkpoint_signature", async () => {
  await withLedger(async (d, key) => {
    const db = attacker(d);
    const meta = db.prepare("SELECT value FROM meta WHERE key = 'ledger_id'").get() as {
      value: string;
    };
    const forged = await signCheckpoint({
      treeSize: 100,
      headHash: rawRecord(db, 100).hash,
      ledgerId: meta.value,
      key: await newKey(),
      clock: systemClock,
    });
    db.prepare("UPDATE checkpoints SET statement = ? WHERE tree_size = 100").run(forged);
    db.close();
    const result = await verify(d, key);
    assert.deepEqual(result.firstBad, { seq: 100, reason: "checkpoint_signature" });
    assert.match(result.message, /checkpoint at tree size 100 does not verify/);
  });
});

Deno.test("verifyLedger() refuses an anchor forged with another key", async () => {
  await withLedger(async (d, key) => {
    const reader = await openLedger({ path: d.path, readOnly: true });
    const head = reader.read({ afterSeq: 249, limit: 1 })[0]!;
    const ledgerId = reader.ledgerId;
    reader.close();
    const forged = await signCheckpoint({
      treeSize: 250,
      headHash: head.hash,
      ledgerId,
      key: await newKey(),
      clock: systemClock,
    });
    await Deno.writeFile(d.anchorPath, forged);
    const result = await verify(d, key);
    assert.deepEqual(result.firstBad, { seq: 1, reason: "checkpoint_signature" });
  });
});

Deno.test("verifyLedger() refuses a ledger whose checkpoints exist but whose anchor is gone", async () => {
  await withLedger(async (d, key) => {
    await Deno.remove(d.anchorPath);
    const result = await verify(d, key);
    assert.equal(result.ok, false);
    assert.equal(result.firstBad?.reason, "checkpoint_mismatch");
    assert.match(result.message, /anchor file .* is missing/);
  });
});

Deno.test("verifyLedger() refuses a checkpoint moved to another tree size", async () => {
  await withLedger(async (d, key) => {
    const db = attacker(d);
    db.prepare("UPDATE checkpoints SET tree_size = 120 WHERE tree_size = 100").run();
    db.close();
    const result = await verify(d, key);
    assert.deepEqual(result.firstBad, { seq: 120, reason: "checkpoint_mismatch" });
  });
});

Deno.test("verifyLedger() reports a record of the wrong shape as malformed", async () => {
  await withLedger(async (d, key) => {
    const db = attacker(d);
    db.prepare("UPDATE records SET prev_hash = ? WHERE seq = 3").run(new Uint8Array(31));
    db.close();
    const result = await verify(d, key);
    assert.deepEqual(result.firstBad, { seq: 3, reason: "malformed" });
  });
});
