/**
 * Ledger verification (`saoe audit verify`, the viewer's ledger status, the
 * supervisor's start): recomputes, in one streaming pass, every record's chain
 * hash and the RFC 6962 Merkle tree over the records' exact bytes, and names the
 * first record that cannot be vouched for.
 *
 * What it trusts: the log keys it is given (for the checkpoints stored in the
 * ledger) and, above all, the witnessed checkpoint its caller verified (from a
 * witness, or a file the operator kept elsewhere). Someone who can write the
 * home can rewrite the database, recompute every hash and re-sign every
 * checkpoint with the key kept there; what they cannot change is what a witness
 * cosigned. So: a ledger that is missing, unreadable, shorter than the witnessed
 * size (`truncated`) or whose tree at that size has another root
 * (`checkpoint_mismatch`: rewritten history) fails, naming what the witness
 * vouches for and what the ledger holds. Within the ledger it detects an edited
 * record (`hash_mismatch`), a deleted row (`seq_gap`), reordered rows
 * (`prev_hash_mismatch`), a stored checkpoint that does not verify
 * (`checkpoint_signature`) or whose root differs (`checkpoint_mismatch`), and a
 * damaged tree table (`tree_mismatch`: its proofs would not verify).
 *
 * Every finding is a result, never a thrown error, so a caller can show it.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { constantTimeEqual, toHex } from "../../primitives/crypto/bytes.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import { leafHash } from "../../primitives/merkle/hash.ts";
import { MerkleFrontier, type MerkleNode } from "../../primitives/merkle/tree.ts";
import { chainHash, GENESIS_HASH, HASH_BYTES } from "./chain_hash.ts";
import { type CheckpointHead, verifyLedgerCheckpoint } from "./checkpoint.ts";
import { MAX_EVENT_BYTES } from "./events.ts";
import { MerkleStore, MIN_STORED_LEVEL } from "./merkle_store.ts";
import { configureReader } from "./schema.ts";

/** Why verification stopped at a record. */
export type LedgerFault =
  | "hash_mismatch"
  | "prev_hash_mismatch"
  | "seq_gap"
  | "checkpoint_mismatch"
  | "checkpoint_signature"
  | "tree_mismatch"
  | "truncated"
  | "missing"
  | "malformed";

/** Options for {@linkcode verifyLedger}. */
export interface VerifyLedgerOptions {
  /** The database file. */
  path: string;
  /** The log's origin line, which every checkpoint must name. */
  origin: string;
  /** The keys trusted to sign this log's checkpoints. */
  logKeys: TrustedKeySet;
  /**
   * The latest checkpoint the witness policy accepted, already verified by the
   * caller: the ledger must hold its size and have its root there.
   */
  witnessed?: CheckpointHead;
  /** Where the witnessed checkpoint came from, for messages (e.g. `witness w1.example`). */
  witnessedSource?: string;
}

/** The outcome of {@linkcode verifyLedger}. */
export interface LedgerVerification {
  /** True when every check passed. */
  ok: boolean;
  /** Highest seq in the database (0 when it is missing or unreadable). */
  size: number;
  /** Records whose chain hash and leaf were recomputed and matched. */
  checked: number;
  /** Stored checkpoints whose signature and root matched. */
  checkpoints: number;
  /** The witnessed size the ledger was checked against (0: none). */
  witnessedSize: number;
  /** Records after the witnessed checkpoint: vouched for by the log key only. */
  unwitnessed: number;
  /** The Merkle root of all records, when they verified. */
  root?: string;
  /** The first record that cannot be vouched for, and why. */
  firstBad?: { seq: number; reason: LedgerFault };
  /** One sentence for people: what was verified or where the ledger broke. */
  message: string;
}

class Broken extends Error {
  constructor(readonly seq: number, readonly reason: LedgerFault, message: string) {
    super(message);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isBytes(value: unknown, length?: number): value is Uint8Array {
  return value instanceof Uint8Array && (length === undefined || value.byteLength === length);
}

function short(root: Uint8Array): string {
  return `${toHex(root).slice(0, 12)}…`;
}

/**
 * Verifies the ledger at `options.path` against its stored checkpoints and the
 * witnessed checkpoint.
 *
 * @example
 * ```ts
 * import { openLedger } from "./ledger.ts";
 * import { verifyLedger } from "./verify.ts";
 * import { generateSeed, SigningKey } from "../../primitives/crypto/ed25519.ts";
 * const dir = await Deno.makeTempDir();
 * const key = await SigningKey.fromSeed(generateSeed());
 * const path = `${dir}/ledger.db`;
 * const origin = "saoe/0123456789abcdef0123456789abcdef";
 * const ledger = await openLedger({ path, origin, checkpointKey: key });
 * ledger.append([new TextEncoder().encode('{"n":1}')]);
 * await ledger.checkpoint();
 * ledger.close();
 * const result = await verifyLedger({
 *   path,
 *   origin,
 *   logKeys: { name: "checkpoint key", keys: [key], threshold: 1 },
 * });
 * if (!result.ok) throw new Error(result.message);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function verifyLedger(options: VerifyLedgerOptions): Promise<LedgerVerification> {
  const witnessed = options.witnessed;
  const source = options.witnessedSource ?? "the witnessed checkpoint";
  const info = await Deno.lstat(options.path).catch(() => undefined);
  if (info === undefined || (info.isFile && info.size === 0)) {
    if (witnessed === undefined || witnessed.size === 0) {
      return {
        ok: true,
        size: 0,
        checked: 0,
        checkpoints: 0,
        witnessedSize: 0,
        unwitnessed: 0,
        message: "No ledger records yet, and no witness vouches for any",
      };
    }
    return fail(
      { size: 0, checked: 0, checkpoints: 0, witnessedSize: witnessed.size },
      new Broken(
        1,
        "missing",
        `Ledger missing: ${source} vouches for ${witnessed.size} records at root ${
          short(witnessed.root)
        }; ${options.path} is ${info === undefined ? "gone" : "empty"}`,
      ),
    );
  }
  if (!info.isFile) {
    return fail(
      { size: 0, checked: 0, checkpoints: 0, witnessedSize: witnessed?.size ?? 0 },
      new Broken(1, "malformed", `Ledger ${options.path} is not a regular file`),
    );
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(options.path, { readOnly: true });
    configureReader(db);
  } catch (err: unknown) {
    return fail(
      { size: 0, checked: 0, checkpoints: 0, witnessedSize: witnessed?.size ?? 0 },
      new Broken(1, "malformed", `Ledger ${options.path} cannot be opened: ${describe(err)}`),
    );
  }
  const walk = new Walk(db, options);
  try {
    db.exec("BEGIN"); // one snapshot for records, tree and checkpoints
    try {
      await walk.run();
    } catch (err: unknown) {
      // a failed tree or checkpoint check: an edited record names it more precisely
      if (
        err instanceof Broken &&
        (err.reason === "checkpoint_mismatch" || err.reason === "tree_mismatch")
      ) {
        const named = firstChainBreak(db, walk.size);
        if (named !== undefined) walk.checked = named.seq - 1;
        throw named ?? err;
      }
      throw err;
    }
    return walk.success();
  } catch (err: unknown) {
    const counts = {
      size: walk.size,
      checked: walk.checked,
      checkpoints: walk.checkpoints,
      witnessedSize: witnessed?.size ?? 0,
    };
    if (err instanceof Broken) return fail(counts, err);
    return fail(
      counts,
      new Broken(
        walk.checked + 1,
        "malformed",
        `Ledger ${options.path} cannot be read: ${describe(err)}`,
      ),
    );
  } finally {
    try {
      if (db.isTransaction) db.exec("COMMIT");
    } catch {
      // a damaged file may refuse even that
    } finally {
      db.close();
    }
  }
}

/** Refuses a record whose chain hash does not match its bytes. */
function checkChain(seq: number, prev: Uint8Array, bytes: Uint8Array, hash: Uint8Array): void {
  if (!constantTimeEqual(chainHash(prev, bytes), hash)) {
    throw new Broken(
      seq,
      "hash_mismatch",
      `Ledger broken at seq ${seq}: hash does not match its bytes (edited record)`,
    );
  }
}

/**
 * After a check of the tree or a checkpoint failed: the first record up to `upTo`
 * whose chain hash does not match its bytes, if any (a more precise name for what
 * the failed check found).
 */
function firstChainBreak(db: DatabaseSync, upTo: number): Broken | undefined {
  const page = db.prepare(
    "SELECT seq, prev_hash, hash, bytes FROM records WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
  );
  let after = 0;
  let prev: Uint8Array = GENESIS_HASH;
  for (;;) {
    const rows = page.all(after, upTo, PAGE_ROWS) as unknown as RecordRow[];
    for (const row of rows) {
      const { seq, prev_hash: prevHash, hash, bytes } = row;
      if (typeof seq !== "number" || !isBytes(prevHash) || !isBytes(hash) || !isBytes(bytes)) {
        return undefined;
      }
      if (!constantTimeEqual(prevHash, prev)) return undefined;
      try {
        checkChain(seq, prev, bytes, hash);
      } catch (err: unknown) {
        if (err instanceof Broken) return err;
        throw err;
      }
      prev = hash;
      after = seq;
    }
    if (rows.length < PAGE_ROWS) return undefined;
  }
}

function fail(
  counts: { size: number; checked: number; checkpoints: number; witnessedSize: number },
  b: Broken,
): LedgerVerification {
  return {
    ok: false,
    ...counts,
    unwitnessed: 0,
    firstBad: { seq: b.seq, reason: b.reason },
    message: b.message,
  };
}

/** Rows read per page. */
const PAGE_ROWS = 1000;

interface RecordRow {
  seq: unknown;
  prev_hash: unknown;
  hash: unknown;
  bytes: unknown;
}

/**
 * A row of the walk: `[seq, bytes, shaped, linked]` for a covered record (shaped: both
 * chain columns are 32-byte blobs; linked: `prev_hash` is the stored hash of the record
 * before), `[seq, bytes, prev_hash, hash]` past the covered ones.
 */
type PageRow = [unknown, unknown, unknown, unknown];

/**
 * Makes a statement return rows as arrays (Node's `StatementSync.setReturnArrays`,
 * which Deno implements; its bundled types do not declare it yet).
 */
function returnArrays(statement: StatementSync): void {
  (statement as StatementSync & { setReturnArrays(enabled: boolean): void }).setReturnArrays(true);
}

function prevMismatch(seq: number): Broken {
  return new Broken(
    seq,
    "prev_hash_mismatch",
    `Ledger broken at seq ${seq}: prev_hash does not match the hash of seq ${
      seq - 1
    } (records reordered, replaced or inserted)`,
  );
}

/** A stored checkpoint: verified, or the fault it carries (raised when reached). */
type Stored =
  | { treeSize: number; head: CheckpointHead }
  | { treeSize: number; fault: LedgerFault; message: string };

/** One verification pass over a snapshot. */
class Walk {
  size = 0;
  checked = 0;
  checkpoints = 0;
  #db: DatabaseSync;
  #options: VerifyLedgerOptions;
  #lastGood = 0;
  #root: Uint8Array = new Uint8Array(HASH_BYTES);
  #stored: Iterator<unknown> | undefined;
  #nodeRange: StatementSync | undefined;

  constructor(db: DatabaseSync, options: VerifyLedgerOptions) {
    this.#db = db;
    this.#options = options;
  }

  async run(): Promise<void> {
    const db = this.#db;
    const stats = db.prepare("SELECT max(seq) AS size FROM records").get() as { size: unknown };
    this.size = typeof stats.size === "number" ? stats.size : 0;
    this.#stored = db.prepare("SELECT tree_size, note FROM checkpoints ORDER BY tree_size")
      .iterate();
    let next = await this.#nextStored();
    const witnessed = this.#options.witnessed;
    const frontier = new MerkleFrontier();
    // A checkpoint's root commits to every record up to its size, so the tree catches any
    // edit of them: the chain is recomputed only past the last checkpoint (stored or
    // witnessed), where it is the only evidence, and over everything when a check fails,
    // to name the first bad record. Hashing is most of the cost: two hashes a record, not three.
    const last = db.prepare("SELECT max(tree_size) AS n FROM checkpoints").get() as {
      n: unknown;
    };
    let covered = Math.min(
      this.size,
      Math.max(typeof last.n === "number" ? last.n : 0, witnessed?.size ?? 0),
    );
    let chainFrom = covered + 1;
    let expected = 1;
    let prev: Uint8Array = GENESIS_HASH;
    // pages of rows inside the snapshot: bounded memory, and measured ~40% faster than
    // a row-by-row iterator. A covered record's chain columns are checked for shape and
    // link inside SQLite rather than copied out: the copies were half the cost of a row.
    const coveredPage = db.prepare(
      `SELECT r.seq AS seq, r.bytes AS bytes,
        (typeof(r.prev_hash) = 'blob' AND length(r.prev_hash) = ${HASH_BYTES}
          AND typeof(r.hash) = 'blob' AND length(r.hash) = ${HASH_BYTES}) AS shaped,
        (r.prev_hash = coalesce((SELECT p.hash FROM records p WHERE p.seq = r.seq - 1),
          zeroblob(${HASH_BYTES}))) AS linked
      FROM records r WHERE r.seq >= ? AND r.seq <= ? ORDER BY r.seq LIMIT ?`,
    );
    const page = db.prepare(
      "SELECT seq, bytes, prev_hash, hash FROM records WHERE seq >= ? ORDER BY seq LIMIT ?",
    );
    // rows as arrays (no object per row): [seq, bytes, shaped, linked] or [seq, bytes, prev_hash, hash]
    returnArrays(coveredPage);
    returnArrays(page);
    for (;;) {
      const inCovered = expected <= covered;
      if (!inCovered && expected === chainFrom && covered > 0) prev = this.#chainHead(covered);
      const found = inCovered
        ? coveredPage.all(expected, covered, PAGE_ROWS)
        : page.all(expected, PAGE_ROWS);
      const rows = found as unknown as PageRow[];
      const completed: MerkleNode[] = [];
      for (const row of rows) {
        const seq = row[0];
        if (typeof seq !== "number" || seq < expected) {
          throw new Broken(expected, "malformed", `Ledger broken at seq ${expected}: invalid seq`);
        }
        if (seq !== expected) {
          throw new Broken(
            expected,
            "seq_gap",
            `Ledger broken at seq ${expected}: the record is missing (deleted); the next record is seq ${seq}`,
          );
        }
        const bytes = row[1];
        if (!isBytes(bytes) || bytes.byteLength > MAX_EVENT_BYTES) {
          throw new Broken(
            seq,
            "malformed",
            `Ledger broken at seq ${seq}: malformed record columns`,
          );
        }
        if (inCovered) {
          if (row[2] !== 1) {
            throw new Broken(
              seq,
              "malformed",
              `Ledger broken at seq ${seq}: malformed record columns`,
            );
          }
          if (row[3] !== 1) throw prevMismatch(seq);
        } else {
          const [, , prevHash, hash] = row;
          if (!isBytes(prevHash, HASH_BYTES) || !isBytes(hash, HASH_BYTES)) {
            throw new Broken(
              seq,
              "malformed",
              `Ledger broken at seq ${seq}: malformed record columns`,
            );
          }
          if (!constantTimeEqual(prevHash, prev)) throw prevMismatch(seq);
          checkChain(seq, prev, bytes, hash);
          prev = hash;
        }
        for (const node of frontier.push(leafHash(bytes))) {
          if (node.level >= MIN_STORED_LEVEL) completed.push(node); // the only ones stored
        }
        this.checked = seq;
        expected = seq + 1;
        if ((next !== undefined && next.treeSize === seq) || witnessed?.size === seq) {
          const root = frontier.root();
          while (next !== undefined && next.treeSize === seq) {
            this.#check(next, root);
            next = await this.#nextStored();
          }
          if (witnessed?.size === seq) this.#checkWitnessed(witnessed, root);
        }
      }
      // the tree table serves proofs: every node it holds must be the one the records give
      this.#checkNodes(completed);
      if (rows.length < PAGE_ROWS) {
        if (!inCovered) break;
        // records missing below the covered size: read on with every column, to name the gap
        if (expected <= covered) covered = expected - 1;
        chainFrom = covered + 1;
      }
    }
    const held = expected - 1;
    if (witnessed !== undefined && witnessed.size > held) {
      const source = this.#options.witnessedSource ?? "the witnessed checkpoint";
      throw new Broken(
        held + 1,
        "truncated",
        `Ledger truncated at seq ${
          held + 1
        }: ${source} vouches for ${witnessed.size} records at root ${
          short(witnessed.root)
        }; the ledger holds ${held}`,
      );
    }
    if (next !== undefined) {
      if ("fault" in next) throw new Broken(next.treeSize, next.fault, next.message);
      throw new Broken(
        held + 1,
        "truncated",
        `Ledger truncated at seq ${
          held + 1
        }: its checkpoint at tree size ${next.treeSize} covers records the ledger no longer holds (it holds ${held})`,
      );
    }
    this.#root = frontier.root();
    // the tree table serves proofs: it must agree with the records
    if (held > 0) {
      let stored: Uint8Array | undefined;
      try {
        stored = new MerkleStore(db, this.#options.path, false).root(held);
      } catch (err: unknown) {
        throw new Broken(held, "tree_mismatch", `Ledger tree table damaged: ${describe(err)}`);
      }
      if (!constantTimeEqual(stored, this.#root)) {
        throw new Broken(
          held,
          "tree_mismatch",
          `Ledger tree table does not match the records: its root is ${
            short(stored)
          }, the records' is ${short(this.#root)} (proofs from it would not verify)`,
        );
      }
    }
  }

  /** The stored chain hash of record `seq`, where the chain past the covered records starts. */
  #chainHead(seq: number): Uint8Array {
    const row = this.#db.prepare("SELECT hash FROM records WHERE seq = ?").get(seq) as
      | { hash: unknown }
      | undefined;
    if (row === undefined || !isBytes(row.hash, HASH_BYTES)) {
      throw new Broken(seq, "malformed", `Ledger broken at seq ${seq}: malformed record columns`);
    }
    return row.hash;
  }

  /** Compares the nodes a page of records completed with the stored ones, one range read per level. */
  #checkNodes(nodes: readonly MerkleNode[]): void {
    if (nodes.length === 0) return;
    const byLevel = new Map<number, MerkleNode[]>();
    for (const n of nodes) {
      if (n.level < MIN_STORED_LEVEL) continue; // recomputed from the records when needed
      const list = byLevel.get(n.level) ?? [];
      list.push(n);
      byLevel.set(n.level, list);
    }
    const range = this.#nodeRange ??= this.#db.prepare(
      "SELECT idx, hash FROM merkle WHERE level = ? AND idx BETWEEN ? AND ? ORDER BY idx",
    );
    for (const [level, list] of byLevel) {
      const first = list[0]!.index;
      const last = list.at(-1)!.index;
      const stored = range.all(level, first, last) as { idx: number; hash: unknown }[];
      const at = new Map(stored.map((r) => [r.idx, r.hash]));
      for (const n of list) {
        const hash = at.get(n.index);
        if (!isBytes(hash, HASH_BYTES) || !constantTimeEqual(hash, n.hash)) {
          const covering = n.index * 2 ** level + 1;
          throw new Broken(
            covering,
            "tree_mismatch",
            `Ledger tree table damaged at node (${level}, ${n.index}) over records ${covering} to ${
              (n.index + 1) * 2 ** level
            }: it is ${
              hash === undefined ? "missing" : "not the hash the records give"
            } (proofs through it would not verify)`,
          );
        }
      }
    }
  }

  /** Reads and verifies the next stored checkpoint (a failure is kept pending). */
  async #nextStored(): Promise<Stored | undefined> {
    const step = this.#stored?.next();
    if (step === undefined || step.done === true) return undefined;
    const row = step.value as { tree_size: unknown; note: unknown };
    const treeSize = row.tree_size;
    if (typeof treeSize !== "number" || treeSize < 1 || treeSize <= this.checked) {
      throw new Broken(
        Math.max(1, this.checked + 1),
        "malformed",
        `Ledger broken: a checkpoint row has the invalid tree size ${String(treeSize)}`,
      );
    }
    if (typeof row.note !== "string") {
      return {
        treeSize,
        fault: "malformed",
        message: `Ledger broken at seq ${treeSize}: the checkpoint is not text`,
      };
    }
    let head: CheckpointHead;
    try {
      head = await verifyLedgerCheckpoint(row.note, {
        origin: this.#options.origin,
        logKeys: this.#options.logKeys,
        what: `the checkpoint at tree size ${treeSize}`,
      });
    } catch (err: unknown) {
      return {
        treeSize,
        fault: "checkpoint_signature",
        message: `Ledger broken at seq ${treeSize}: ${describe(err)}`,
      };
    }
    if (head.size !== treeSize) {
      return {
        treeSize,
        fault: "checkpoint_mismatch",
        message:
          `Ledger broken at seq ${treeSize}: the checkpoint stored at tree size ${treeSize} signs tree size ${head.size} (moved or copied checkpoint)`,
      };
    }
    return { treeSize, head };
  }

  #check(cp: Stored, root: Uint8Array): void {
    if ("fault" in cp) throw new Broken(cp.treeSize, cp.fault, cp.message);
    if (!constantTimeEqual(cp.head.root, root)) {
      const from = this.#lastGood + 1;
      throw new Broken(
        from,
        "checkpoint_mismatch",
        `Ledger broken at seq ${from}: records ${from} to ${cp.treeSize} do not match the signed checkpoint at tree size ${cp.treeSize} (root ${
          short(cp.head.root)
        }, the records give ${
          short(root)
        }); seq ${from} is the first record after the last good checkpoint`,
      );
    }
    this.#lastGood = Math.max(this.#lastGood, cp.treeSize);
    this.checkpoints++;
  }

  #checkWitnessed(witnessed: CheckpointHead, root: Uint8Array): void {
    if (!constantTimeEqual(witnessed.root, root)) {
      const source = this.#options.witnessedSource ?? "the witnessed checkpoint";
      // nothing below the witnessed size is known good any more: a checkpoint that verifies
      // with the home's own key may be part of the rewrite
      throw new Broken(
        1,
        "checkpoint_mismatch",
        `Ledger rewritten: ${source} vouches for ${witnessed.size} records at root ${
          short(witnessed.root)
        }; the ledger's first ${witnessed.size} records give root ${short(root)}`,
      );
    }
    this.#lastGood = Math.max(this.#lastGood, witnessed.size);
  }

  success(): LedgerVerification {
    const witnessedSize = this.#options.witnessed?.size ?? 0;
    const unwitnessed = this.checked - witnessedSize;
    const tail = witnessedSize === 0
      ? this.checked === 0 ? "" : "; no witness vouches for any of them yet"
      : unwitnessed > 0
      ? `; witnessed up to ${witnessedSize}, the ${unwitnessed} records after it are vouched for by the log key only`
      : "; all witnessed";
    return {
      ok: true,
      size: this.size,
      checked: this.checked,
      checkpoints: this.checkpoints,
      witnessedSize,
      unwitnessed,
      root: toHex(this.#root),
      message: `Ledger verified: ${this.checked} records, ${this.checkpoints} checkpoints, root ${
        toHex(this.#root)
      }${tail}`,
    };
  }
}
