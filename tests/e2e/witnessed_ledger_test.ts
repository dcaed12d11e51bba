/**
 * The ledger's tamper evidence against the attacker it exists for: someone who
 * can write the home (and so read its keys). Each attack runs against a real
 * pipeline (`saoe pipeline`) and its real local witness process, and is judged
 * through the real CLI: `saoe audit verify` fails naming the regression and
 * what the witness vouches for, and `saoe pipeline` refuses to start on the
 * tampered home.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { leafHash } from "../../core/primitives/merkle/hash.ts";
import { MerkleFrontier } from "../../core/primitives/merkle/tree.ts";
import {
  ledgerPath,
  SUPERVISOR_ID,
  witnessedCheckpointPath,
} from "../../core/domain/home/layout.ts";
import { chainHash, GENESIS_HASH } from "../../core/domain/ledger/chain_hash.ts";
import { signLedgerCheckpoint } from "../../core/domain/ledger/checkpoint.ts";
import { logOrigin } from "../../core/domain/ledger/log_identity.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { makeTestHome, runSaoe, startCliPipeline, type TestHome } from "../supervisor/_harness.ts";
import { intakeUrl, submit } from "./_e2e.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

/** A home whose pipeline ran, published two articles and stopped cleanly (all witnessed). */
async function usedHome(): Promise<TestHome & { size: number }> {
  const t = await makeTestHome();
  try {
    await using pipeline = await startCliPipeline(t);
    const url = await intakeUrl(pipeline);
    for (const title of ["First", "Second"]) {
      const { code, stderr } = await submit(t.root, url, [
        "--title",
        title,
        "--markdown",
        `Body of ${title}.`,
        "--wait",
      ]);
      assert.equal(code, 0, stderr);
    }
    const status = await pipeline.stop("SIGTERM");
    assert.equal(status.code, 0, pipeline.stderr.join("\n"));
  } catch (err: unknown) {
    await t[Symbol.asyncDispose]();
    throw err;
  }
  const verified = await runSaoe(["audit", "verify", "--home", t.root, "--json"]);
  assert.equal(verified.code, 0, verified.stderr);
  const result = JSON.parse(verified.stdout);
  assert.equal(result.unwitnessed, 0, "a clean stop leaves every record witnessed");
  return Object.assign(t, { size: result.size as number });
}

/** `saoe audit verify` and `saoe pipeline` on the tampered home: both must refuse. */
async function assertRefused(t: TestHome, reason: RegExp, vouched: number): Promise<void> {
  const verify = await runSaoe(["audit", "verify", "--home", t.root]);
  assert.equal(verify.code, 1, `audit verify passed a tampered ledger:\n${verify.stdout}`);
  assert.match(verify.stderr, reason);
  assert.match(verify.stderr, new RegExp(`vouches for ${vouched} records`));
  assert.doesNotMatch(verify.stderr, /internal error|none yet/i);
  const start = await runSaoe(["pipeline", "--home", t.root]);
  assert.notEqual(start.code, 0, "the pipeline started on a tampered ledger");
  assert.match(start.stderr, /Refusing to start/);
  assert.match(start.stderr, new RegExp(`vouches for ${vouched} records`));
  assert.doesNotMatch(start.stdout, /Running/);
}

Deno.test({
  name:
    "a ledger rewritten with records dropped and changed, every hash and the tree recomputed, checkpoints deleted and re-signed with the home's own key is refused by audit verify and by the pipeline",
  ...processTest,
  async fn() {
    await using t = await usedHome();
    const secrets = await (await openKeyStore(t.home.keys)).loadAgent(SUPERVISOR_ID);
    const key = await SigningKey.fromSeed(secrets.seed);
    const db = new DatabaseSync(ledgerPath(t.home));
    try {
      const rows = db.prepare("SELECT bytes FROM records ORDER BY seq").all() as {
        bytes: Uint8Array;
      }[];
      // the forged history: the second half dropped, and a rejection turned into a validation
      const kept = rows.slice(0, Math.floor(rows.length / 2)).map((r) => {
        const text = new TextDecoder().decode(r.bytes).replace(
          '"type":"rejected"',
          '"type":"validated"',
        );
        return new TextEncoder().encode(text);
      });
      db.exec(
        "DELETE FROM records; DELETE FROM merkle; DELETE FROM checkpoints; DELETE FROM witnessed;",
      );
      const insert = db.prepare(
        "INSERT INTO records(seq, prev_hash, hash, bytes) VALUES (?, ?, ?, ?)",
      );
      const put = db.prepare("INSERT INTO merkle(level, idx, hash) VALUES (?, ?, ?)");
      const frontier = new MerkleFrontier();
      let prev: Uint8Array = GENESIS_HASH;
      kept.forEach((bytes, i) => {
        const hash = chainHash(prev, bytes);
        insert.run(i + 1, prev, hash, bytes);
        for (const n of frontier.push(leafHash(bytes))) put.run(n.level, n.index, n.hash);
        prev = hash;
      });
      db.prepare("INSERT INTO checkpoints(tree_size, note) VALUES (?, ?)").run(
        kept.length,
        await signLedgerCheckpoint({
          origin: logOrigin(t.config.root_pin),
          size: kept.length,
          root: frontier.root(),
          key,
        }),
      );
    } finally {
      db.close();
    }
    await Deno.remove(witnessedCheckpointPath(t.home));
    await assertRefused(t, /truncated|rewritten/, t.size);
  },
});

Deno.test({
  name: "a deleted ledger, and one truncated to 0 bytes, are refused: the witness vouches for it",
  ...processTest,
  async fn() {
    await using t = await usedHome();
    const path = ledgerPath(t.home);
    await Deno.writeFile(path, new Uint8Array());
    await assertRefused(t, /missing/i, t.size);
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(`${path}${suffix}`).catch(() => {});
    }
    await assertRefused(t, /missing/i, t.size);
    // "none yet" is never said of a ledger a witness vouches for
    const status = await runSaoe(["status", "--home", t.root]);
    assert.match(status.stdout, /MISSING/);
  },
});

Deno.test({
  name:
    "an older ledger restored with its checkpoints is refused as shorter than what the witness vouches for",
  ...processTest,
  async fn() {
    await using t = await usedHome();
    const path = ledgerPath(t.home);
    const old = join(t.root, "..", "old-ledger.db");
    await Deno.copyFile(path, old);
    // the pipeline runs on and publishes more, witnessed
    {
      await using pipeline = await startCliPipeline(t);
      const { code, stderr } = await submit(t.root, await intakeUrl(pipeline), [
        "--title",
        "Third",
        "--markdown",
        "More.",
        "--wait",
      ]);
      assert.equal(code, 0, stderr);
      assert.equal((await pipeline.stop("SIGTERM")).code, 0);
    }
    const now = JSON.parse((await runSaoe(["audit", "verify", "--home", t.root, "--json"])).stdout);
    assert.ok(now.size > t.size);
    await Deno.copyFile(old, path);
    await Deno.remove(old);
    await assertRefused(t, /truncated/, now.size);
  },
});

Deno.test({
  name:
    "garbage bytes in the ledger are a named refusal for audit verify, status and the pipeline, never an internal error or a verified checkpoint",
  ...processTest,
  async fn() {
    await using t = await usedHome();
    await Deno.writeFile(ledgerPath(t.home), crypto.getRandomValues(new Uint8Array(16 * 1024)));
    const verify = await runSaoe(["audit", "verify", "--home", t.root]);
    assert.equal(verify.code, 1);
    assert.match(verify.stderr, /cannot be (opened|read)/);
    assert.doesNotMatch(verify.stderr, /internal error/i);
    const status = await runSaoe(["status", "--home", t.root]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /CANNOT BE READ/);
    assert.doesNotMatch(status.stdout, /signatures verified/);
    const start = await runSaoe(["pipeline", "--home", t.root]);
    assert.notEqual(start.code, 0);
    assert.match(start.stderr, /Refusing to start/);
  },
});

/** Every file under `dirs` (and the files given), as bytes, to put back later as a backup would. */
async function snapshot(dirs: string[], paths: string[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (folder: string) => {
    for await (const entry of Deno.readDir(folder)) {
      const path = join(folder, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) out.set(path, await Deno.readFile(path));
    }
  };
  for (const dir of dirs) await walk(dir);
  for (const path of paths) {
    const bytes = await Deno.readFile(path).catch(() => undefined);
    if (bytes !== undefined) out.set(path, bytes);
  }
  return out;
}

Deno.test({
  name:
    "a revocation done while the pipeline is stopped is witnessed at once: the earlier ledger, trust files and version stores put back together are refused",
  ...processTest,
  async fn() {
    await using t = await usedHome();
    const ledger = ledgerPath(t.home);
    const stores: string[] = [];
    for await (const entry of Deno.readDir(t.home.agents)) {
      stores.push(join(t.home.agents, entry.name, "store", "versions.json"));
    }
    const before = await snapshot([t.home.trust], [
      ...stores,
      ledger,
      `${ledger}-wal`,
      `${ledger}-shm`,
      witnessedCheckpointPath(t.home),
    ]);

    const revoke = await runSaoe(["keys", "revoke", "intake", "--home", t.root, "--json"]);
    assert.equal(revoke.code, 0, revoke.stderr);
    const result = JSON.parse(revoke.stdout);
    assert.equal(result.recordedBy, "ledger");
    assert.equal(result.witnessing?.witnessed, true, JSON.stringify(result.witnessing));
    const vouched = result.witnessing.checkpoint_size as number;
    assert.ok(vouched > t.size);

    // the attacker puts the whole earlier state back: ledger, trust/ and every versions.json
    for await (const entry of Deno.readDir(t.home.trust)) {
      await Deno.remove(join(t.home.trust, entry.name), { recursive: true });
    }
    for (const suffix of ["-wal", "-shm"]) await Deno.remove(`${ledger}${suffix}`).catch(() => {});
    for (const [path, bytes] of before) {
      await Deno.mkdir(join(path, ".."), { recursive: true });
      await Deno.writeFile(path, bytes);
    }
    await assertRefused(t, /truncated/, vouched);
  },
});
