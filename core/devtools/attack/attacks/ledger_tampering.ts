/**
 * Attack 13: ledger tampering, on a COPY of the target's audit ledger (the live
 * one is only read). The copy is taken record by record in one snapshot,
 * checkpointed with the supervisor's key and cosigned by a scratch witness (so
 * every record is covered by a witnessed head), and verified untouched as a
 * control. Then, on fresh copies each: one record's bytes edited, one record
 * deleted, two records swapped, the tail cut off, an edit followed by a full
 * recomputation of every later hash, the same with the Merkle tree rebuilt and
 * the checkpoint re-signed with the supervisor's own key (what someone who can
 * write the home can do), the ledger deleted, and garbage written over it.
 * `verifyLedger` against the witnessed head (what `saoe audit verify` runs)
 * must fail and name the first bad record with the fault's reason.
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { join } from "node:path";
import { generateSeed, SigningKey } from "../../../primitives/crypto/ed25519.ts";
import { leafHash } from "../../../primitives/merkle/hash.ts";
import { MerkleFrontier } from "../../../primitives/merkle/tree.ts";
import { formatNote, parseNote } from "../../../primitives/note/note.ts";
import { cosignCheckpoint } from "../../../primitives/note/cosignature.ts";
import {
  type CheckpointHead,
  signLedgerCheckpoint,
  verifyWitnessedCheckpoint,
} from "../../../domain/ledger/checkpoint.ts";
import { logOrigin } from "../../../domain/ledger/log_identity.ts";
import { ledgerPath } from "../../../domain/home/layout.ts";
import { SCHEMA_SQL } from "../../../domain/ledger/schema.ts";
import { openKeyStore } from "../../../domain/keys/keystore.ts";
import { chainHash } from "../../../domain/ledger/chain_hash.ts";
import { openLedger } from "../../../domain/ledger/ledger.ts";
import { type LedgerVerification, verifyLedger } from "../../../domain/ledger/verify.ts";
import { SUPERVISOR_ID } from "../../../domain/home/layout.ts";
import { systemClock } from "../../../primitives/time/clock.ts";
import type { AttackContext } from "../context.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "ledger-tampering";

interface Tamper {
  tried: string;
  /** The fault verification must report, and the record it must name. */
  reason: string;
  seq(at: Position): number;
  apply(db: DatabaseSync, size: number, k: number, forge: Forge): void | Promise<void>;
  /** Acts on the file instead of its rows (deleting it, overwriting it). */
  file?: (path: string) => Promise<void>;
}

/** What the home writer holds: the checkpoint key and the log's origin. */
interface Forge {
  key: SigningKey;
  origin: string;
}

/** Where the tampering happens. */
interface Position {
  /** Records in the copy. */
  size: number;
  /** The record tampered with. */
  k: number;
  /** The last checkpoint's tree size below `k` (0 when none). */
  checkpointBefore: number;
}

interface Row {
  seq: number;
  prev_hash: Uint8Array;
  hash: Uint8Array;
  bytes: Uint8Array;
}

function row(db: DatabaseSync, seq: number): Row {
  return db.prepare("SELECT seq, prev_hash, hash, bytes FROM records WHERE seq = ?").get(
    seq,
  ) as unknown as Row;
}

function edited(bytes: Uint8Array): Uint8Array {
  // a plausible edit: the record claims a different event type
  const text = new TextDecoder().decode(bytes);
  const next = text.replace(/"type":"[a-z_]+"/, '"type":"validated"') === text
    ? text.replace(/"at":"/, '"at":"1')
    : text.replace(/"type":"[a-z_]+"/, '"type":"validated"');
  return new TextEncoder().encode(next === text ? `${text} ` : next);
}

const TAMPERS: readonly Tamper[] = [
  {
    tried: "one record's bytes edited in place",
    reason: "hash_mismatch",
    seq: ({ k }) => k,
    apply(db, _n, k) {
      db.prepare("UPDATE records SET bytes = ? WHERE seq = ?").run(edited(row(db, k).bytes), k);
    },
  },
  {
    tried: "one record deleted",
    reason: "seq_gap",
    seq: ({ k }) => k,
    apply(db, _n, k) {
      db.prepare("DELETE FROM records WHERE seq = ?").run(k);
    },
  },
  {
    tried: "two records swapped (reordered)",
    reason: "prev_hash_mismatch",
    seq: ({ k }) => k,
    apply(db, _n, k) {
      const a = row(db, k);
      const b = row(db, k + 1);
      const set = db.prepare("UPDATE records SET prev_hash = ?, hash = ?, bytes = ? WHERE seq = ?");
      set.run(b.prev_hash, b.hash, b.bytes, k);
      set.run(a.prev_hash, a.hash, a.bytes, k + 1);
    },
  },
  {
    tried: "the tail cut off (records and their checkpoints deleted)",
    reason: "truncated",
    seq: ({ k }) => k + 1,
    apply(db, _n, k) {
      db.prepare("DELETE FROM records WHERE seq > ?").run(k);
      db.prepare("DELETE FROM checkpoints WHERE tree_size > ?").run(k);
    },
  },
  {
    tried:
      "a record edited, every later hash and the Merkle tree recomputed, and the checkpoint re-signed with the supervisor's key from the home",
    reason: "checkpoint_mismatch",
    // the re-signed checkpoint verifies; the witnessed root does not match, so no record up
    // to the witnessed size can be vouched for
    seq: () => 1,
    async apply(db, n, k, forge) {
      let prev = row(db, k).prev_hash;
      const set = db.prepare("UPDATE records SET bytes = ?, prev_hash = ?, hash = ? WHERE seq = ?");
      for (let seq = k; seq <= n; seq++) {
        const r = row(db, seq);
        const bytes = seq === k ? edited(r.bytes) : r.bytes;
        const hash = chainHash(prev, bytes);
        set.run(bytes, prev, hash, seq);
        prev = hash;
      }
      db.exec("DELETE FROM merkle");
      const frontier = new MerkleFrontier();
      const put = db.prepare("INSERT INTO merkle(level, idx, hash) VALUES (?, ?, ?)");
      for (let seq = 1; seq <= n; seq++) {
        for (const node of frontier.push(leafHash(row(db, seq).bytes))) {
          put.run(node.level, node.index, node.hash);
        }
      }
      db.prepare("DELETE FROM checkpoints WHERE tree_size >= ?").run(k);
      db.prepare("INSERT INTO checkpoints(tree_size, note) VALUES (?, ?)").run(
        n,
        await signLedgerCheckpoint({
          origin: forge.origin,
          size: n,
          root: frontier.root(),
          key: forge.key,
        }),
      );
    },
  },
  {
    tried: "the ledger file deleted",
    reason: "missing",
    seq: () => 1,
    apply() {},
    file: (path) => Deno.remove(path),
  },
  {
    tried: "garbage bytes written over the ledger file",
    reason: "malformed",
    seq: () => 1,
    apply() {},
    file: (path) => Deno.writeFile(path, crypto.getRandomValues(new Uint8Array(8192))),
  },
  {
    tried: "a record edited and every later hash recomputed without the checkpoint key",
    reason: "checkpoint_mismatch",
    // the first record no good checkpoint vouches for
    seq: ({ checkpointBefore }) => checkpointBefore + 1,
    apply(db, n, k) {
      let prev = row(db, k).prev_hash;
      const set = db.prepare("UPDATE records SET bytes = ?, prev_hash = ?, hash = ? WHERE seq = ?");
      for (let seq = k; seq <= n; seq++) {
        const r = row(db, seq);
        const bytes = seq === k ? edited(r.bytes) : r.bytes;
        const hash = chainHash(prev, bytes);
        set.run(bytes, prev, hash, seq);
        prev = hash;
      }
    },
  },
];

/** Copies every row of the ledger at `from` into a new database at `to`, from one snapshot. */
function copyLedger(from: string, to: string): void {
  const live = new DatabaseSync(from, { readOnly: true });
  const copy = new DatabaseSync(to);
  try {
    copy.exec(SCHEMA_SQL);
    live.exec("BEGIN");
    copy.exec("BEGIN");
    for (const table of ["meta", "records", "merkle", "checkpoints", "witnessed"] as const) {
      const rows = live.prepare(`SELECT * FROM ${table}`).all() as Record<string, SQLInputValue>[];
      for (const r of rows) {
        const names = Object.keys(r);
        copy.prepare(
          `INSERT INTO ${table} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`,
        ).run(...names.map((n) => r[n]!));
      }
    }
    copy.exec("COMMIT");
    live.exec("COMMIT");
  } finally {
    copy.close();
    live.close();
  }
}

async function verifyCopy(
  dir: string,
  forge: Forge,
  witnessed: CheckpointHead,
): Promise<LedgerVerification> {
  return await verifyLedger({
    path: join(dir, "ledger.db"),
    origin: forge.origin,
    logKeys: { name: "supervisor checkpoint key", keys: [forge.key], threshold: 1 },
    witnessed,
    witnessedSource: "the scratch witness",
  });
}

async function copyOf(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  await Deno.copyFile(join(from, "ledger.db"), join(to, "ledger.db"));
}

/** Checkpoints the copy and has a scratch witness cosign it: the head verification must meet. */
async function witness(path: string, forge: Forge): Promise<CheckpointHead> {
  const ledger = await openLedger({ path, checkpointKey: forge.key, origin: forge.origin });
  let note: string;
  try {
    note = (await ledger.checkpoint()).note;
  } finally {
    ledger.close();
  }
  const witnessKey = await SigningKey.fromSeed(generateSeed());
  const name = "attack.local/scratch-witness";
  const parsed = parseNote(note);
  const cosigned = formatNote({
    text: parsed.text,
    signatures: [
      ...parsed.signatures,
      await cosignCheckpoint(parsed.text, {
        name,
        key: witnessKey,
        timestamp: Math.floor(systemClock.now() / 1000),
      }),
    ],
  });
  return await verifyWitnessedCheckpoint(cosigned, {
    origin: forge.origin,
    logKeys: { name: "supervisor checkpoint key", keys: [forge.key], threshold: 1 },
    policy: { witnesses: [{ name, publicKey: witnessKey.publicKey }], threshold: 1 },
  });
}

/** Attack 13. */
export const ledgerTampering: Attack = {
  name: NAME,
  number: 13,
  summary:
    "edits, deletes, reorders and truncates records of a witnessed copy of the ledger, rewrites it with the home's own checkpoint key, deletes and corrupts it: audit verify must name the first bad record",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    const work = await Deno.makeTempDir({ prefix: "saoe-attack-ledger-" });
    try {
      const secrets = await (await openKeyStore(ctx.home.keys)).loadAgent(SUPERVISOR_ID);
      const key = await SigningKey.fromSeed(secrets.seed);
      secrets.seed.fill(0);
      // a consistent copy of the live database, taken by a reader in one snapshot
      // (record by record: VACUUM INTO needs ATTACH, which Deno allows only with all permissions)
      const base = join(work, "base");
      await Deno.mkdir(base);
      copyLedger(ledgerPath(ctx.home), join(base, "ledger.db"));
      // sign the copy's head and have it witnessed, so every record is covered
      const forge: Forge = { key, origin: logOrigin(ctx.config.root_pin) };
      const witnessed = await witness(join(base, "ledger.db"), forge);
      const size = witnessed.size;
      const control = await verifyCopy(base, forge, witnessed);
      if (!control.ok || size < 4) {
        return [{
          attack: NAME,
          verdict: "BREACH",
          tried: "verifying an untouched copy as the control",
          where: size < 4
            ? `the ledger has only ${size} records, too few to tamper with`
            : `the untouched copy does not verify (${control.message})`,
          code: "ledger_broken",
        }];
      }
      const k = Math.floor(size / 2);
      const inspect = new DatabaseSync(join(base, "ledger.db"), { readOnly: true });
      let checkpointBefore: number;
      try {
        const found = inspect.prepare(
          "SELECT max(tree_size) AS n FROM checkpoints WHERE tree_size < ?",
        ).get(k) as { n: number | null };
        checkpointBefore = found.n ?? 0;
      } finally {
        inspect.close();
      }
      const lines: AttackLine[] = [];
      for (const [i, tamper] of TAMPERS.entries()) {
        const dir = join(work, `t${i}`);
        await copyOf(base, dir);
        if (tamper.file !== undefined) await tamper.file(join(dir, "ledger.db"));
        else {
          const db = new DatabaseSync(join(dir, "ledger.db"));
          try {
            await tamper.apply(db, size, k, forge);
          } finally {
            db.close();
          }
        }
        const result = await verifyCopy(dir, forge, witnessed);
        const bad = result.firstBad;
        const expected = tamper.seq({ size, k, checkpointBefore });
        const held = !result.ok && bad?.reason === tamper.reason && bad.seq === expected;
        lines.push({
          attack: NAME,
          verdict: held ? "BLOCKED" : "BREACH",
          tried: `${tamper.tried} (record ${k} of ${size}, on a copy)`,
          where: result.ok
            ? "audit verify found nothing wrong"
            : `audit verify names record ${bad?.seq} (${bad?.reason})${
              held ? "" : `, expected record ${expected} (${tamper.reason})`
            }`,
          code: tamper.reason,
        });
      }
      return lines;
    } finally {
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
};
