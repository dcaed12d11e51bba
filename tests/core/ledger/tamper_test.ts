/**
 * Each tamper kind is done as an attacker would: a second, real SQLite connection
 * editing the database file directly, after the writer closed it. The ledger is
 * verified as `saoe audit verify` verifies it: against its stored checkpoints and
 * what its (real, in-process) witness vouches for.
 */
import assert from "node:assert/strict";
import type { SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { formatNote, parseNote } from "../../../core/primitives/note/note.ts";
import { cosignCheckpoint } from "../../../core/primitives/note/cosignature.ts";
import {
  signLedgerCheckpoint,
  verifyWitnessedCheckpoint,
} from "../../../core/domain/ledger/checkpoint.ts";
import { openLedger } from "../../../core/domain/ledger/ledger.ts";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import {
  attacker,
  buildLedger,
  type LedgerDir,
  ledgerDir,
  newKey,
  ORIGIN,
  rawRecord,
  rechain,
  startTestWitness,
  type TestWitness,
  trusted,
  verify,
  witnessedHead,
} from "./_fixtures.ts";

/**
 * 250 records; checkpoints at 100 and 200, both cosigned by the witness (which
 * so vouches for 200 records); records 201 to 250 are unwitnessed.
 */
async function withLedger(
  fn: (d: LedgerDir, key: SigningKey, witness: TestWitness) => Promise<void>,
): Promise<void> {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    await using witness = await startTestWitness(d, key);
    await buildLedger(d, key, { size: 250, checkpointsAt: [100, 200], witness });
    const clean = await verify(d, key, witness);
    assert.equal(clean.ok, true, clean.message);
    assert.equal(clean.witnessedSize, 200);
    assert.equal(clean.unwitnessed, 50);
    await fn(d, key, witness);
  } finally {
    await d.cleanup();
  }
}

Deno.test("verifyLedger() names an edited record: one byte changed is hash_mismatch at its seq", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    const bytes = new Uint8Array(rawRecord(db, 142).bytes);
    bytes[20] = bytes[20]! ^ 0x01;
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 142").run(bytes);
    db.close();
    const result = await verify(d, key, witness);
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
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    db.prepare("DELETE FROM records WHERE seq = 77").run();
    db.close();
    const result = await verify(d, key, witness);
    assert.deepEqual(result.firstBad, { seq: 77, reason: "seq_gap" });
    assert.match(result.message, /^Ledger broken at seq 77: the record is missing/);
  });
});

Deno.test("verifyLedger() names reordered rows: two rows' contents swapped", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    const a = rawRecord(db, 10);
    const b = rawRecord(db, 11);
    const update = db.prepare(
      "UPDATE records SET prev_hash = ?, hash = ?, bytes = ? WHERE seq = ?",
    );
    update.run(b.prev_hash, b.hash, b.bytes, 10);
    update.run(a.prev_hash, a.hash, a.bytes, 11);
    db.close();
    const result = await verify(d, key, witness);
    assert.deepEqual(result.firstBad, { seq: 10, reason: "prev_hash_mismatch" });
    assert.match(result.message, /^Ledger broken at seq 10: prev_hash does not match/);
  });
});

Deno.test("verifyLedger() names reordered rows: only the event bytes of two rows swapped", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    const a = rawRecord(db, 30);
    const b = rawRecord(db, 31);
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 30").run(b.bytes);
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 31").run(a.bytes);
    db.close();
    const result = await verify(d, key, witness);
    assert.deepEqual(result.firstBad, { seq: 30, reason: "hash_mismatch" });
  });
});

Deno.test("verifyLedger() catches a chain re-computed without the key as checkpoint_mismatch", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    const edited = new TextEncoder().encode(
      '{"type":"published","at":"2026-01-01T00:00:00Z","agent":"deployment"}',
    );
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 150").run(edited);
    rechain(db, 150);
    db.close();
    const result = await verify(d, key, witness);
    assert.equal(result.ok, false);
    // the checkpoint at 100 still holds: the break lies after it, up to the one at 200
    assert.deepEqual(result.firstBad, { seq: 101, reason: "checkpoint_mismatch" });
    assert.equal(result.checked, 200);
    assert.match(result.message, /^Ledger broken at seq 101: records 101 to 200 do not match/);
    assert.match(result.message, /first record after the last good checkpoint/);
  });
});

Deno.test("verifyLedger() still catches a re-computed chain when the stored checkpoints are deleted too", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 5").run(
      new TextEncoder().encode('{"forged":true}'),
    );
    db.prepare("DELETE FROM checkpoints").run();
    db.prepare("DELETE FROM witnessed").run();
    rechain(db, 5);
    db.close();
    await Deno.remove(d.witnessedPath);
    const result = await verify(d, key, witness);
    assert.deepEqual(result.firstBad, { seq: 1, reason: "checkpoint_mismatch" });
    assert.match(
      result.message,
      /^Ledger rewritten: witness witness\.test\/ledger vouches for 200 records at root [0-9a-f]{12}…; the ledger's first 200 records give root [0-9a-f]{12}…$/,
    );
  });
});

Deno.test("verifyLedger() detects a tail truncated past the last checkpoint through the witness", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    db.prepare("DELETE FROM records WHERE seq > 150").run();
    db.prepare("DELETE FROM checkpoints WHERE tree_size > 150").run();
    db.prepare("DELETE FROM witnessed WHERE tree_size > 150").run();
    db.close();
    const result = await verify(d, key, witness);
    assert.equal(result.ok, false);
    assert.deepEqual(result.firstBad, { seq: 151, reason: "truncated" });
    assert.equal(result.size, 150);
    assert.match(
      result.message,
      /^Ledger truncated at seq 151: witness witness\.test\/ledger vouches for 200 records at root [0-9a-f]{12}…; the ledger holds 150$/,
    );
  });
});

Deno.test("verifyLedger() refuses a checkpoint forged with another key as checkpoint_signature", async () => {
  await withLedger(async (d, key, witness) => {
    const reader = await openLedger({ path: d.path, readOnly: true });
    const root = reader.root(100);
    reader.close();
    // the right size and root, signed by a key this log does not trust
    const forged = await signLedgerCheckpoint({
      origin: ORIGIN,
      size: 100,
      root,
      key: await newKey(),
    });
    const db = attacker(d);
    db.prepare("UPDATE checkpoints SET note = ? WHERE tree_size = 100").run(forged);
    db.close();
    const result = await verify(d, key, witness);
    assert.deepEqual(result.firstBad, { seq: 100, reason: "checkpoint_signature" });
    assert.match(
      result.message,
      /^Ledger broken at seq 100: Cannot accept the checkpoint at tree size 100: no signature by ledger checkpoint key verifies/,
    );
  });
});

Deno.test("a witnessed checkpoint forged with another log key or another witness key vouches for nothing", async () => {
  await withLedger(async (d, key, witness) => {
    const reader = await openLedger({ path: d.path, readOnly: true });
    const root = reader.root(250);
    const genuine = reader.latestWitnessed()!.note;
    reader.close();
    const logSigned = await signLedgerCheckpoint({ origin: ORIGIN, size: 250, root, key });
    const text = parseNote(logSigned).text;
    const stranger = await newKey();
    const cosign = (by: SigningKey) =>
      cosignCheckpoint(text, { name: witness.server.name, key: by, timestamp: 1_800_000_000 });
    const forgeries: [string, string, RegExp][] = [
      // signed by another log key, "cosigned" with the witness's name by a stranger's key
      [
        "another log key",
        formatNote({
          text,
          signatures: [
            (parseNote(
              await signLedgerCheckpoint({ origin: ORIGIN, size: 250, root, key: stranger }),
            ))
              .signatures[0]!,
            await cosign(stranger),
          ],
        }),
        /no signature by ledger checkpoint key verifies/,
      ],
      // the real log key, and a cosignature under the witness's name by another key
      [
        "another witness key",
        formatNote({
          text,
          signatures: [...parseNote(logSigned).signatures, await cosign(stranger)],
        }),
        /0 of the 1 configured witnesses cosigned it, 1 required/,
      ],
      // the real log key and no cosignature at all
      ["no cosignature", logSigned, /0 of the 1 configured witnesses cosigned it/],
    ];
    for (const [what, note, reason] of forgeries) {
      await assert.rejects(
        verifyWitnessedCheckpoint(note, {
          origin: ORIGIN,
          logKeys: trusted(key),
          policy: witness.policy,
        }),
        (err: unknown) => isSaoeError(err, "checkpoint_signature") && reason.test(err.message),
        what,
      );
      // planted as the ledger's own witnessed record, it is ignored: the witness decides
      const db = attacker(d);
      db.prepare("INSERT OR REPLACE INTO witnessed(tree_size, note) VALUES (250, ?)").run(note);
      db.close();
      const { head, source } = await witnessedHead(d, key, witness);
      assert.equal(head?.size, 200, what);
      assert.equal(source, "witness witness.test/ledger", what);
    }
    // the genuine note verifies (the forgeries failed for their forgery alone)
    const head = await verifyWitnessedCheckpoint(genuine, {
      origin: ORIGIN,
      logKeys: trusted(key),
      policy: witness.policy,
    });
    assert.equal(head.size, 200);
  });
});

Deno.test("verifyLedger() still checks against the witness when the ledger's witnessed records and the operators' copy are gone", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    db.prepare("DELETE FROM witnessed").run();
    db.prepare("DELETE FROM checkpoints").run();
    db.prepare("DELETE FROM records WHERE seq > 120").run();
    db.close();
    await Deno.remove(d.witnessedPath);
    const result = await verify(d, key, witness);
    assert.equal(result.ok, false);
    assert.deepEqual(result.firstBad, { seq: 121, reason: "truncated" });
    assert.equal(result.witnessedSize, 200);
    assert.match(result.message, /witness witness\.test\/ledger vouches for 200 records/);
  });
});

Deno.test("verifyLedger() refuses a checkpoint moved to another tree size", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    db.prepare("UPDATE checkpoints SET tree_size = 120 WHERE tree_size = 100").run();
    db.close();
    const result = await verify(d, key, witness);
    assert.deepEqual(result.firstBad, { seq: 120, reason: "checkpoint_mismatch" });
  });
});

Deno.test("verifyLedger() reports a record of the wrong shape as malformed", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    db.prepare("UPDATE records SET prev_hash = ? WHERE seq = 3").run(new Uint8Array(31));
    db.close();
    const result = await verify(d, key, witness);
    assert.deepEqual(result.firstBad, { seq: 3, reason: "malformed" });
  });
});

Deno.test("verifyLedger() catches a chain column edited under a checkpoint, where the chain is not recomputed", async () => {
  await withLedger(async (d, key, witness) => {
    // a record's own hash replaced: the next record no longer links to it
    let db = attacker(d);
    db.prepare("UPDATE records SET hash = ? WHERE seq = 50").run(new Uint8Array(32).fill(9));
    db.close();
    let result = await verify(d, key, witness);
    assert.deepEqual(result.firstBad, { seq: 51, reason: "prev_hash_mismatch" });
    // put back, then the first record's link to the genesis hash replaced
    db = attacker(d);
    db.prepare("UPDATE records SET hash = ? WHERE seq = 50").run(rawRecord(db, 51).prev_hash);
    db.prepare("UPDATE records SET prev_hash = ? WHERE seq = 1").run(new Uint8Array(32).fill(1));
    db.close();
    result = await verify(d, key, witness);
    assert.deepEqual(result.firstBad, { seq: 1, reason: "prev_hash_mismatch" });
    // a column that is no longer a blob
    db = attacker(d);
    db.prepare("UPDATE records SET prev_hash = ? WHERE seq = 1").run(new Uint8Array(32));
    db.close();
    assert.equal((await verify(d, key, witness)).ok, true);
    db = attacker(d);
    db.exec("PRAGMA ignore_check_constraints = ON");
    db.prepare("UPDATE records SET hash = zeroblob(33) WHERE seq = 120").run();
    db.close();
    result = await verify(d, key, witness);
    assert.deepEqual(result.firstBad, { seq: 120, reason: "malformed" });
  });
});
