/**
 * The ledger against the attacker it exists for: someone who can write the home,
 * and so holds the checkpoint key. They can rewrite the database, recompute every
 * hash, rebuild the Merkle table and re-sign checkpoints; what they cannot change
 * is what the witness cosigned. Every case is verified as `saoe audit verify`
 * does it: against the stored checkpoints and the largest checkpoint the (real,
 * in-process) witness vouches for.
 */
import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import type { SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { SaoeError } from "../../../core/primitives/errors.ts";
import { leafHash } from "../../../core/primitives/merkle/hash.ts";
import { verifyInclusion } from "../../../core/primitives/merkle/proof.ts";
import { signLedgerCheckpoint } from "../../../core/domain/ledger/checkpoint.ts";
import { openLedger } from "../../../core/domain/ledger/ledger.ts";
import type { LedgerFault } from "../../../core/domain/ledger/verify.ts";
import {
  attacker,
  buildLedger,
  type LedgerDir,
  ledgerDir,
  newKey,
  openWriter,
  ORIGIN,
  rawRecord,
  rebuildTree,
  rechain,
  removeDatabase,
  resignEverything,
  startTestWitness,
  type TestWitness,
  verify,
  witnessedHead,
} from "./_fixtures.ts";

const WITNESS = "witness witness\\.test\\/ledger";
const ROOT = "[0-9a-f]{12}…";

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
    await fn(d, key, witness);
  } finally {
    await d.cleanup();
  }
}

/** Each tamper of tamper_test.ts, done with the attacker's connection. */
const TAMPERS: {
  what: string;
  tamper: (db: DatabaseSync, d: LedgerDir) => void | Promise<void>;
  firstBad: { seq: number; reason: LedgerFault };
}[] = [
  {
    what: "one byte of record 142 changed",
    tamper: (db) => {
      const bytes = new Uint8Array(rawRecord(db, 142).bytes);
      bytes[20] = bytes[20]! ^ 0x01;
      db.prepare("UPDATE records SET bytes = ? WHERE seq = 142").run(bytes);
    },
    firstBad: { seq: 142, reason: "hash_mismatch" },
  },
  {
    what: "record 77 deleted",
    tamper: (db) => void db.prepare("DELETE FROM records WHERE seq = 77").run(),
    firstBad: { seq: 77, reason: "seq_gap" },
  },
  {
    what: "rows 10 and 11 swapped",
    tamper: (db) => {
      const a = rawRecord(db, 10);
      const b = rawRecord(db, 11);
      const update = db.prepare(
        "UPDATE records SET prev_hash = ?, hash = ?, bytes = ? WHERE seq = ?",
      );
      update.run(b.prev_hash, b.hash, b.bytes, 10);
      update.run(a.prev_hash, a.hash, a.bytes, 11);
    },
    firstBad: { seq: 10, reason: "prev_hash_mismatch" },
  },
  {
    what: "the bytes of records 30 and 31 swapped",
    tamper: (db) => {
      const a = rawRecord(db, 30);
      const b = rawRecord(db, 31);
      db.prepare("UPDATE records SET bytes = ? WHERE seq = 30").run(b.bytes);
      db.prepare("UPDATE records SET bytes = ? WHERE seq = 31").run(a.bytes);
    },
    firstBad: { seq: 30, reason: "hash_mismatch" },
  },
  {
    what: "record 150 replaced and the chain re-computed from it",
    tamper: (db) => {
      db.prepare("UPDATE records SET bytes = ? WHERE seq = 150").run(
        new TextEncoder().encode('{"type":"published","agent":"deployment"}'),
      );
      rechain(db, 150);
    },
    firstBad: { seq: 101, reason: "checkpoint_mismatch" },
  },
  {
    what: "record 5 replaced, the chain re-computed, every checkpoint and witnessed record deleted",
    tamper: async (db, d) => {
      db.prepare("UPDATE records SET bytes = ? WHERE seq = 5").run(
        new TextEncoder().encode('{"forged":true}'),
      );
      db.exec("DELETE FROM checkpoints; DELETE FROM witnessed;");
      rechain(db, 5);
      await Deno.remove(d.witnessedPath);
    },
    firstBad: { seq: 1, reason: "checkpoint_mismatch" },
  },
  {
    what: "the tail past 150 and its checkpoints deleted",
    tamper: (db) => {
      db.exec(
        "DELETE FROM records WHERE seq > 150; DELETE FROM checkpoints WHERE tree_size > 150; DELETE FROM witnessed;",
      );
    },
    firstBad: { seq: 151, reason: "truncated" },
  },
  {
    what: "the checkpoint at 100 re-signed by another key",
    tamper: async (db, d) => {
      const reader = await openLedger({ path: d.path, readOnly: true });
      const root = reader.root(100);
      reader.close();
      const forged = await signLedgerCheckpoint({
        origin: ORIGIN,
        size: 100,
        root,
        key: await newKey(),
      });
      db.prepare("UPDATE checkpoints SET note = ? WHERE tree_size = 100").run(forged);
    },
    firstBad: { seq: 100, reason: "checkpoint_signature" },
  },
  {
    what: "the checkpoint at 100 moved to 120",
    tamper: (db) =>
      void db.prepare("UPDATE checkpoints SET tree_size = 120 WHERE tree_size = 100").run(),
    firstBad: { seq: 120, reason: "checkpoint_mismatch" },
  },
  {
    what: "a prev_hash of 31 bytes at 3",
    tamper: (db) =>
      void db.prepare("UPDATE records SET prev_hash = ? WHERE seq = 3").run(new Uint8Array(31)),
    firstBad: { seq: 3, reason: "malformed" },
  },
];

Deno.test("every tamper of tamper_test.ts is named with its fault and record, also when the attacker rebuilds the Merkle table to match", async () => {
  for (const rebuild of [false, true]) {
    for (const { what, tamper, firstBad } of TAMPERS) {
      const label = `${what}${rebuild ? ", tree rebuilt" : ""}`;
      await withLedger(async (d, key, witness) => {
        const db = attacker(d);
        try {
          await tamper(db, d);
          if (rebuild) rebuildTree(db);
        } finally {
          db.close();
        }
        const result = await verify(d, key, witness);
        assert.equal(result.ok, false, label);
        assert.deepEqual(result.firstBad, firstBad, `${label}: ${result.message}`);
        assert.equal(result.witnessedSize, 200, label);
        // the records before the first bad one verified, and no more
        assert.ok(result.checked < firstBad.seq || firstBad.reason.startsWith("checkpoint"), label);
      });
    }
  }
});

Deno.test("a ledger rewritten with every hash recomputed, the tree rebuilt and a checkpoint re-signed with the real key is refused against the witness as checkpoint_mismatch", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    // record 60 dropped, record 150 changed, the rest kept: still 249 records, then one more
    const rows = db.prepare("SELECT bytes FROM records ORDER BY seq").all() as unknown as {
      bytes: Uint8Array;
    }[];
    const kept = rows.map((r) => r.bytes).filter((_, i) => i !== 59);
    kept[148] = new TextEncoder().encode('{"type":"published","agent":"deployment"}');
    kept.push(new TextEncoder().encode('{"type":"validated","agent":"planner"}'));
    db.exec("BEGIN IMMEDIATE");
    db.exec("DELETE FROM records");
    const insert = db.prepare(
      "INSERT INTO records(seq, prev_hash, hash, bytes) VALUES (?, zeroblob(32), zeroblob(32), ?)",
    );
    kept.forEach((bytes, i) => insert.run(i + 1, bytes));
    db.exec("COMMIT");
    const note = await resignEverything(db, key);
    db.close();
    await Deno.remove(d.witnessedPath);

    // without the witness the forgery is flawless: the home's own key vouches for it
    const alone = await verify(d, key);
    assert.equal(alone.ok, true, alone.message);
    assert.equal(alone.checkpoints, 1);

    const result = await verify(d, key, witness);
    assert.equal(result.ok, false);
    assert.deepEqual(result.firstBad, { seq: 1, reason: "checkpoint_mismatch" });
    assert.equal(result.witnessedSize, 200);
    assert.match(
      result.message,
      new RegExp(
        `^Ledger rewritten: ${WITNESS} vouches for 200 records at root ${ROOT}; the ledger's first 200 records give root ${ROOT}$`,
      ),
    );

    // and the witness refuses to cosign the re-signed history: it does not extend what it saw
    const ledger = await openWriter(d, key);
    try {
      const written = await ledger.checkpoint();
      assert.equal(written.note, note);
      assert.equal(await witness.submit(ledger, written), false);
      assert.equal(ledger.latestWitnessed(), undefined);
    } finally {
      ledger.close();
    }
    assert.equal((await witnessedHead(d, key, witness)).head?.size, 200);
  });
});

Deno.test("a ledger truncated, its tree rebuilt and its shorter head re-signed with the real key is refused as truncated", async () => {
  await withLedger(async (d, key, witness) => {
    const db = attacker(d);
    db.prepare("DELETE FROM records WHERE seq > 150").run();
    await resignEverything(db, key);
    db.close();
    await Deno.remove(d.witnessedPath);
    const alone = await verify(d, key);
    assert.equal(alone.ok, true, alone.message);

    const result = await verify(d, key, witness);
    assert.equal(result.ok, false);
    assert.deepEqual(result.firstBad, { seq: 151, reason: "truncated" });
    assert.equal(result.size, 150);
    assert.equal(result.checked, 150);
    assert.match(
      result.message,
      new RegExp(
        `^Ledger truncated at seq 151: ${WITNESS} vouches for 200 records at root ${ROOT}; the ledger holds 150$`,
      ),
    );
    // offered to the witness, the shorter checkpoint is the rollback alarm, not a cosignature
    const ledger = await openWriter(d, key);
    try {
      assert.equal(await witness.submit(ledger, await ledger.checkpoint()), false);
      assert.ok(witness.logs.some((l) => /ALARM: .*vouches for 200 records.*rolled back/.test(l)));
    } finally {
      ledger.close();
    }
  });
});

Deno.test("a deleted or emptied ledger is refused as missing, naming what the witness vouches for", async () => {
  for (const how of ["deleted", "emptied"] as const) {
    await withLedger(async (d, key, witness) => {
      await removeDatabase(d);
      if (how === "emptied") await Deno.writeFile(d.path, new Uint8Array(0));
      const result = await verify(d, key, witness);
      assert.equal(result.ok, false, how);
      assert.deepEqual(result.firstBad, { seq: 1, reason: "missing" }, how);
      assert.equal(result.size, 0);
      assert.equal(result.checked, 0);
      assert.equal(result.witnessedSize, 200);
      assert.match(
        result.message,
        new RegExp(
          `^Ledger missing: ${WITNESS} vouches for 200 records at root ${ROOT}; .*ledger\\.db is ${
            how === "deleted" ? "gone" : "empty"
          }$`,
        ),
        how,
      );
    });
  }
});

Deno.test("garbage bytes in place of the ledger are refused as malformed", async () => {
  await withLedger(async (d, key, witness) => {
    await removeDatabase(d);
    await Deno.writeFile(d.path, crypto.getRandomValues(new Uint8Array(8192)));
    const result = await verify(d, key, witness);
    assert.equal(result.ok, false);
    assert.deepEqual(result.firstBad, { seq: 1, reason: "malformed" });
    assert.equal(result.witnessedSize, 200);
    assert.match(result.message, /ledger\.db cannot be (opened|read)/);
    // the same without a witness: garbage is never an empty ledger
    const alone = await verify(d, key);
    assert.deepEqual(alone.firstBad, { seq: 1, reason: "malformed" });
  });
});

Deno.test("every node of the Merkle table is checked, not only the ones the current root is built from", async () => {
  await withLedger(async (d, key, witness) => {
    // (4, 1) and (5, 1) sit inside the complete subtree (7, 0): the root of 250 never reads
    // them (nodes below level MIN_STORED_LEVEL are not stored: they are recomputed)
    for (const [level, idx, seq] of [[4, 1, 17], [5, 1, 33]] as const) {
      const db = attacker(d);
      const row = db.prepare("SELECT hash FROM merkle WHERE level = ? AND idx = ?").get(
        level,
        idx,
      ) as {
        hash: Uint8Array;
      };
      db.prepare("UPDATE merkle SET hash = ? WHERE level = ? AND idx = ?").run(
        new Uint8Array(32),
        level,
        idx,
      );
      db.close();
      const zeroed = await verify(d, key, witness);
      assert.deepEqual(
        zeroed.firstBad,
        { seq, reason: "tree_mismatch" },
        `node (${level}, ${idx})`,
      );
      const fix = attacker(d);
      fix.prepare("DELETE FROM merkle WHERE level = ? AND idx = ?").run(level, idx);
      fix.close();
      const gone = await verify(d, key, witness);
      assert.deepEqual(
        gone.firstBad,
        { seq, reason: "tree_mismatch" },
        `node (${level}, ${idx}) deleted`,
      );
      const restore = attacker(d);
      restore.prepare("INSERT INTO merkle(level, idx, hash) VALUES (?, ?, ?)").run(
        level,
        idx,
        row.hash,
      );
      restore.close();
      assert.equal((await verify(d, key, witness)).ok, true);
    }
  });
});

Deno.test("a damaged Merkle table is refused as tree_mismatch, and a proof built from it does not verify", async () => {
  await withLedger(async (d, key, witness) => {
    // 250 = 128 + 64 + 32 + 16 + 8 + 2: the node (7, 0) covers records 1 to 128
    const db = attacker(d);
    const node = db.prepare("SELECT hash FROM merkle WHERE level = 7 AND idx = 0").get() as {
      hash: Uint8Array;
    };
    db.prepare("UPDATE merkle SET hash = ? WHERE level = 7 AND idx = 0").run(new Uint8Array(32));
    db.close();
    const changed = await verify(d, key, witness);
    assert.equal(changed.ok, false);
    // named at the first record the damaged node covers
    assert.deepEqual(changed.firstBad, { seq: 1, reason: "tree_mismatch" });
    assert.match(
      changed.message,
      /^Ledger tree table damaged at node \(7, 0\) over records 1 to 128/,
    );

    // an inclusion proof that passes through the damaged node fails against the witnessed root
    const head = (await witnessedHead(d, key, witness)).head!;
    const reader = await openLedger({ path: d.path, readOnly: true });
    try {
      const bytes = reader.read({ afterSeq: 199, limit: 1 })[0]!.bytes;
      const proof = reader.inclusionProof(200, 200);
      assert.equal(
        verifyInclusion({
          leafHash: leafHash(bytes),
          index: 199,
          size: 200,
          proof,
          root: head.root,
        }),
        false,
      );
    } finally {
      reader.close();
    }

    // a node deleted from the table
    const again = attacker(d);
    again.prepare("UPDATE merkle SET hash = ? WHERE level = 7 AND idx = 0").run(node.hash);
    again.prepare("DELETE FROM merkle WHERE level = 4 AND idx = 14").run();
    again.close();
    const deleted = await verify(d, key, witness);
    assert.deepEqual(deleted.firstBad, { seq: 225, reason: "tree_mismatch" });
    assert.match(deleted.message, /^Ledger tree table damaged at node \(4, 14\) .*missing/);
    const reader2 = await openLedger({ path: d.path, readOnly: true });
    try {
      // the node is a sibling on record 248's path and part of the root of 250
      for (const read of [() => reader2.inclusionProof(248, 250), () => reader2.root(250)]) {
        assert.throws(
          read,
          (err: unknown) => err instanceof SaoeError && err.code === "ledger_broken",
        );
      }
    } finally {
      reader2.close();
    }
  });
});
