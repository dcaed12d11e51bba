/**
 * A format-1 ledger (chain only, DSSE checkpoints in `checkpoints(tree_size,
 * statement)`), built here with raw SQL exactly as the earlier version left it,
 * becomes format 2 when a writer opens it: its records and id are kept, its DSSE
 * checkpoints set aside, the Merkle tree built from the records; it then
 * verifies, checkpoints, is witnessed and serves proofs like any other.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { leafHash } from "../../../core/primitives/merkle/hash.ts";
import { verifyConsistency, verifyInclusion } from "../../../core/primitives/merkle/proof.ts";
import { rootOf } from "../../../core/primitives/merkle/tree.ts";
import { chainHash, GENESIS_HASH } from "../../../core/domain/ledger/chain_hash.ts";
import { openLedger } from "../../../core/domain/ledger/ledger.ts";
import { LEDGER_FORMAT } from "../../../core/domain/ledger/schema.ts";
import {
  attacker,
  eventBytes,
  fill,
  type LedgerDir,
  ledgerDir,
  newKey,
  openWriter,
  startTestWitness,
  verify,
} from "./_fixtures.ts";

/** The schema of format 1. */
const FORMAT_1_SQL = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE records(
  seq INTEGER PRIMARY KEY,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  bytes BLOB NOT NULL
) STRICT;
CREATE TABLE checkpoints(
  tree_size INTEGER PRIMARY KEY,
  statement BLOB NOT NULL
) STRICT;
`;

interface Format1 {
  ledgerId: string;
  events: Uint8Array[];
  /** The DSSE statements stored, by tree size. */
  statements: Map<number, Uint8Array>;
  headHash: Uint8Array;
}

/** Writes a format-1 ledger of `size` records with a DSSE checkpoint at each of `at`. */
async function format1Ledger(d: LedgerDir, size: number, at: readonly number[]): Promise<Format1> {
  await Deno.mkdir(`${d.dir}/audit`, { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(d.path);
  try {
    db.exec("PRAGMA journal_mode=WAL");
    db.exec(FORMAT_1_SQL);
    const ledgerId = crypto.randomUUID();
    db.prepare("INSERT INTO meta(key, value) VALUES ('ledger_id', ?), ('format', '1')").run(
      ledgerId,
    );
    const insert = db.prepare(
      "INSERT INTO records(seq, prev_hash, hash, bytes) VALUES (?, ?, ?, ?)",
    );
    const checkpoint = db.prepare("INSERT INTO checkpoints(tree_size, statement) VALUES (?, ?)");
    const events: Uint8Array[] = [];
    const statements = new Map<number, Uint8Array>();
    let prev: Uint8Array = GENESIS_HASH;
    db.exec("BEGIN IMMEDIATE");
    for (let seq = 1; seq <= size; seq++) {
      const bytes = eventBytes(seq);
      const hash = chainHash(prev, bytes);
      insert.run(seq, prev, hash, bytes);
      events.push(bytes);
      prev = hash;
      if (at.includes(seq)) {
        // a DSSE envelope as format 1 stored it (its bytes are kept, never read again)
        const statement = new TextEncoder().encode(JSON.stringify({
          payloadType: "application/vnd.saoe.ledger-checkpoint+json",
          payload: btoa(
            JSON.stringify({ tree_size: seq, head_hash: hash.toHex(), ledger_id: ledgerId }),
          ),
          signatures: [{ keyid: "00".repeat(32), sig: btoa("x".repeat(64)) }],
        }));
        checkpoint.run(seq, statement);
        statements.set(seq, statement);
      }
    }
    db.exec("COMMIT");
    return { ledgerId, events, statements, headHash: prev };
  } finally {
    db.close();
  }
}

function formatOf(d: LedgerDir): string {
  const db = new DatabaseSync(d.path, { readOnly: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: string })
      .value;
  } finally {
    db.close();
  }
}

function tablesOf(d: LedgerDir): string[] {
  const db = new DatabaseSync(d.path, { readOnly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}

Deno.test("a writer opening a format-1 ledger migrates it to format 2: records and id kept, DSSE checkpoints set aside, tree built; it then verifies", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const old = await format1Ledger(d, 300, [100, 250]);
    assert.deepEqual(tablesOf(d), ["checkpoints", "meta", "records"]);
    // a reader does not migrate it
    await openLedger({ path: d.path, readOnly: true }).then((r) => r.close(), () => {});
    const before = await verify(d, key);
    assert.equal(before.ok, false, "a format-1 ledger has no tree to verify yet");
    assert.equal(formatOf(d), "1");

    const ledger = await openWriter(d, key);
    try {
      assert.equal(formatOf(d), LEDGER_FORMAT);
      assert.equal(ledger.ledgerId, old.ledgerId);
      const leaves = old.events.map((b) => leafHash(b));
      assert.deepEqual(ledger.head(), {
        size: 300,
        hash: old.headHash.toHex(),
        root: rootOf(leaves).toHex(),
      });
      assert.deepEqual(
        ledger.read({ limit: 1000 }).map((r) => r.bytes),
        old.events,
        "every record's exact bytes are kept",
      );
      // the tree serves proofs for the migrated records
      const root = ledger.root(300);
      for (const seq of [1, 100, 173, 300]) {
        assert.ok(verifyInclusion({
          leafHash: leaves[seq - 1]!,
          index: seq - 1,
          size: 300,
          proof: ledger.inclusionProof(seq, 300),
          root,
        }));
      }
      assert.ok(verifyConsistency({
        oldSize: 100,
        newSize: 300,
        oldRoot: ledger.root(100),
        newRoot: root,
        proof: ledger.consistencyProof(100, 300),
      }));
      // no format-2 checkpoint yet: the DSSE ones vouched for chain heads only
      assert.equal(ledger.checkpointAt(100), undefined);
      assert.equal(ledger.checkpointAt(250), undefined);
      assert.equal(ledger.latestWitnessed(), undefined);
    } finally {
      ledger.close();
    }
    assert.deepEqual(tablesOf(d), [
      "checkpoints",
      "legacy_checkpoints",
      "merkle",
      "meta",
      "records",
      "witnessed",
    ]);
    const db = attacker(d);
    try {
      const legacy = db.prepare(
        "SELECT tree_size, statement FROM legacy_checkpoints ORDER BY tree_size",
      )
        .all() as { tree_size: number; statement: Uint8Array }[];
      assert.deepEqual(
        legacy.map((r) => [r.tree_size, r.statement]),
        [...old.statements.entries()],
      );
    } finally {
      db.close();
    }
    const result = await verify(d, key);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.checked, 300);
    assert.equal(result.checkpoints, 0);
    assert.equal(result.root, rootOf(old.events.map((b) => leafHash(b))).toHex());
  } finally {
    await d.cleanup();
  }
});

Deno.test("a migrated ledger grows, checkpoints and is witnessed like a new one, and a second open migrates nothing", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    const old = await format1Ledger(d, 77, [50]);
    await using witness = await startTestWitness(d, key);
    let ledger = await openWriter(d, key);
    fill(ledger, 23, 7);
    const written = await ledger.checkpoint();
    assert.equal(written.treeSize, 100);
    assert.equal(await witness.submit(ledger, written), true, witness.logs.join("\n"));
    ledger.close();
    // reopened: nothing to migrate, the legacy rows are still there, the tree resumes
    ledger = await openWriter(d, key);
    assert.equal(ledger.ledgerId, old.ledgerId);
    assert.equal(ledger.head().root, written.root);
    fill(ledger, 50);
    assert.equal(await witness.submit(ledger, await ledger.checkpoint()), true);
    ledger.close();
    const db = attacker(d);
    try {
      const legacy = db.prepare("SELECT count(*) AS n FROM legacy_checkpoints").get() as {
        n: number;
      };
      assert.equal(legacy.n, 1);
    } finally {
      db.close();
    }
    const result = await verify(d, key, witness);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.size, 150);
    assert.equal(result.checkpoints, 2);
    assert.equal(result.witnessedSize, 150);
  } finally {
    await d.cleanup();
  }
});

Deno.test("migration launders nothing: a format-1 record edited before the upgrade is still hash_mismatch", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    await format1Ledger(d, 40, [20]);
    const db = attacker(d);
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 12").run(
      new TextEncoder().encode('{"type":"published","agent":"deployment"}'),
    );
    db.close();
    (await openWriter(d, key)).close();
    assert.equal(formatOf(d), LEDGER_FORMAT);
    const result = await verify(d, key);
    assert.deepEqual(result.firstBad, { seq: 12, reason: "hash_mismatch" });
  } finally {
    await d.cleanup();
  }
});

Deno.test("an empty format-1 ledger migrates and verifies with 0 records", async () => {
  const d = await ledgerDir();
  const key = await newKey();
  try {
    await format1Ledger(d, 0, []);
    const ledger = await openWriter(d, key);
    assert.equal(ledger.head().size, 0);
    ledger.append([eventBytes(1)]);
    ledger.close();
    assert.equal(formatOf(d), LEDGER_FORMAT);
    const result = await verify(d, key);
    assert.equal(result.ok, true, result.message);
    assert.equal(result.size, 1);
  } finally {
    await d.cleanup();
  }
});
