/**
 * The `saoe attack` command line: `--list` names every attack with one
 * sentence, `--json` reports the lines as data and the home it used (removed
 * afterwards when the run made it), a given `--home` without a running
 * pipeline is left untouched, and a bad name is a usage error.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runSaoe } from "./_tree.ts";
import { ledgerEvents, makeTestHome, startTestSupervisor } from "../supervisor/_harness.ts";

Deno.test("saoe attack --list names each attack with one sentence, in the threat model's order", async () => {
  const run = await runSaoe(["attack", "--list"]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.lines.length >= 13, run.stdout);
  const numbers = run.lines.map((l) => Number(/^\s*(\d+)\./.exec(l)?.[1]));
  assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
  for (const [i, line] of run.lines.entries()) {
    assert.match(line, /^\s*\d+\. [a-z-]+\s{2,}\S.{20,}$/, `line ${i}: ${line}`);
  }
  for (const name of ["tampered-envelope", "replay", "sandbox-escape", "ledger-tampering"]) {
    assert.ok(run.lines.some((l) => l.includes(` ${name} `)), `${name} missing`);
  }
});

Deno.test("saoe attack --list --json lists number, name and summary", async () => {
  const run = await runSaoe(["attack", "--list", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const doc = JSON.parse(run.stdout) as {
    ok: boolean;
    attacks: { number: number; name: string; summary: string }[];
  };
  assert.equal(doc.ok, true);
  assert.deepEqual(
    doc.attacks.map((a) => a.number),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
  );
  for (const a of doc.attacks) assert.ok(a.summary.length > 20, a.name);
});

Deno.test("saoe attack refuses an unknown attack name with exit code 2", async () => {
  const run = await runSaoe(["attack", "no-such-attack"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /Unknown attack "no-such-attack"/);
});

Deno.test({
  name:
    "saoe attack --json on a home with no running pipeline attacks a fresh home, reports it and removes it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const idle = await Deno.makeTempDir({ prefix: "saoe-attack-test-idle-" });
    try {
      await Deno.writeTextFile(join(idle, "marker"), "untouched");
      const run = await runSaoe(["attack", "ledger-tampering", "--home", idle, "--json"]);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      const doc = JSON.parse(run.stdout) as {
        ok: boolean;
        home: string;
        fresh: boolean;
        lines: { attack: string; verdict: string; tried: string; where: string; code: string }[];
      };
      assert.equal(doc.ok, true);
      assert.equal(doc.fresh, true);
      assert.notEqual(doc.home, await Deno.realPath(idle));
      assert.equal(doc.lines.length, 8);
      for (const line of doc.lines) {
        assert.equal(line.attack, "ledger-tampering");
        assert.equal(line.verdict, "BLOCKED");
      }
      assert.deepEqual(
        doc.lines.map((l) => l.code),
        [
          "hash_mismatch",
          "seq_gap",
          "prev_hash_mismatch",
          "truncated",
          "checkpoint_mismatch",
          "missing",
          "malformed",
          "checkpoint_mismatch",
        ],
      );
      // the run's own home is gone, the idle folder untouched
      await assert.rejects(Deno.lstat(doc.home), Deno.errors.NotFound);
      assert.deepEqual(
        (await Array.fromAsync(Deno.readDir(idle))).map((e) => e.name),
        ["marker"],
      );
    } finally {
      await Deno.remove(idle, { recursive: true });
    }
  },
});

Deno.test({
  name: "saoe attack --home aims at the pipeline running there and only reads its ledger",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    await using _running = await startTestSupervisor(t);
    const run = await runSaoe(["attack", "hop-skipping", "--home", t.root, "--json"]);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const doc = JSON.parse(run.stdout) as { home: string; fresh: boolean; lines: unknown[] };
    assert.equal(doc.fresh, false);
    assert.equal(doc.home, t.root);
    // the refusals are in this home's ledger, written by its own supervisor
    const events = await ledgerEvents(t.home);
    assert.equal(
      events.filter((e) => e.type === "rejected" && e.reason === "edge_not_allowed").length,
      2,
    );
  },
});
