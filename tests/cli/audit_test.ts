/**
 * `saoe audit events|verify|checkpoint` on a real home and ledger, run as a user
 * runs them (subprocess, `deno task saoe` flags).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { anchorPath, ledgerPath } from "../../core/domain/home/layout.ts";
import { buildEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { holdWriterLock, makeHome, runCli, seedLedger, supervisorKey } from "./_fixtures.ts";

const SESSION_A = crypto.randomUUID();
const SESSION_B = crypto.randomUUID();
const ENVELOPE = crypto.randomUUID();
// an attacker-chosen message: ESC sequences, the one-byte C1 CSI, a bidi override
const HOSTILE = "bad \u001b[2J\u001b]0;owned\u0007 \u009b31m \u202etxt.exe";

function events() {
  return [
    buildEvent({ type: "agent_started", agent: "supervisor", detail: { agent: "intake" } }),
    buildEvent({
      type: "intake_accepted",
      agent: "intake",
      session_id: SESSION_A,
      detail: { image_count: 0 },
    }),
    buildEvent({
      type: "validated",
      agent: "sanitization",
      session_id: SESSION_A,
      envelope_id: ENVELOPE,
      detail: { sender: "intake", template: "blog_article_intent" },
    }),
    buildEvent({
      type: "rejected",
      agent: "planner",
      session_id: SESSION_B,
      reason: "schema",
      detail: { message: HOSTILE },
    }),
  ];
}

Deno.test("saoe audit events prints every event inert, filters strictly and emits JSONL", async () => {
  const t = await makeHome();
  try {
    await seedLedger(t.home, events());
    const all = await runCli(["audit", "events", "--home", t.root]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 4);
    assert.match(
      lines[3]!,
      /planner\s+rejected\s+session=[0-9a-f-]{36}\s+envelope=-\s+reason=schema/,
    );
    // no raw control or bidi character reaches the terminal
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(all.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.ok(all.stdout.includes("\\u001b[2J") && all.stdout.includes("\\u009b31m"));

    const bySession = await runCli(["audit", "events", "--home", t.root, "--session", SESSION_A]);
    assert.equal(bySession.stdout.trimEnd().split("\n").length, 2);
    const byType = await runCli(["audit", "events", "--home", t.root, "--type", "validated"]);
    assert.ok(byType.stdout.includes(ENVELOPE));
    assert.equal(byType.stdout.trimEnd().split("\n").length, 1);
    const byAgent = await runCli(["audit", "events", "--home", t.root, "--agent", "intake"]);
    assert.equal(byAgent.stdout.trimEnd().split("\n").length, 1);
    const last = await runCli(["audit", "events", "--home", t.root, "--limit", "2", "--json"]);
    const rows = last.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.seq), [3, 4]);
    assert.equal(rows[1].detail.message, HOSTILE); // the JSON keeps the value exactly
    assert.doesNotMatch(last.stdout, /[\u007f-\u009f\u202a-\u202e]/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe audit events refuses malformed filter values with exit code 2", async () => {
  const t = await makeHome();
  try {
    await seedLedger(t.home, events());
    for (
      const args of [
        ["--session", "../../etc"],
        ["--session", SESSION_A.toUpperCase()],
        ["--type", "validated' OR 1=1"],
        ["--agent", "Planner"],
        ["--limit", "0"],
        ["--limit", "ten"],
      ]
    ) {
      const r = await runCli(["audit", "events", "--home", t.root, ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`Invalid ${args[0]}`));
      assert.equal(r.stdout, "");
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe audit events says there is no ledger yet with exit code 1", async () => {
  const t = await makeHome();
  try {
    const r = await runCli(["audit", "events", "--home", t.root]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No audit ledger at .*ledger\.db yet/);
  } finally {
    await t.cleanup();
  }
});

Deno.test(
  {
    name: "saoe audit events --follow prints events appended after it started",
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async () => {
    const t = await makeHome();
    const { cliArgs, REPO } = await import("./_fixtures.ts");
    try {
      await seedLedger(t.home, events().slice(0, 1));
      const child = new Deno.Command(Deno.execPath(), {
        args: [...await cliArgs(), "audit", "events", "--home", t.root, "--follow", "--json"],
        cwd: REPO,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      const waitFor = async (needle: string) => {
        const deadline = Date.now() + 10_000;
        while (!seen.includes(needle)) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${needle}: ${seen}`);
          const { value, done } = await reader.read();
          if (done) throw new Error(`output ended before ${needle}: ${seen}`);
          seen += value;
        }
      };
      try {
        await waitFor('"seq":1');
        await seedLedger(t.home, events().slice(1, 3));
        await waitFor('"seq":3');
      } finally {
        child.kill("SIGINT");
        const status = await child.status;
        reader.releaseLock();
        await child.stdout.cancel().catch(() => {});
        await child.stderr.cancel();
        assert.equal(status.code, 0);
      }
      assert.ok(seen.includes(ENVELOPE));
    } finally {
      await t.cleanup();
    }
  },
);

Deno.test("saoe audit verify accepts an intact ledger and names the first edited record", async () => {
  const t = await makeHome();
  try {
    await seedLedger(t.home, events(), { checkpoint: true });
    const ok = await runCli(["audit", "verify", "--home", t.root, "--json"]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const result = JSON.parse(ok.stdout);
    assert.equal(result.ok, true);
    assert.equal(result.size, 4);
    assert.equal(result.checkpoints >= 1, true);

    // an attacker with file access edits record 2
    const db = new DatabaseSync(ledgerPath(t.home));
    const forged = encodeEvent(buildEvent({ type: "published", agent: "deployment" }));
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 2").run(forged);
    db.close();
    const bad = await runCli(["audit", "verify", "--home", t.root]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /seq 2/);
    assert.match(bad.stderr, /First bad record: seq 2 \(hash_mismatch\)/);
  } finally {
    await t.cleanup();
  }
});

/** 40 events in the ledger with checkpoints at 20 and 40, as a supervisor leaves it. */
async function seedForty(t: Awaited<ReturnType<typeof makeHome>>): Promise<void> {
  const batch = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      buildEvent({
        type: "validated",
        agent: "planner",
        session_id: crypto.randomUUID(),
        envelope_id: crypto.randomUUID(),
        detail: { sender: "sanitization", template: `blog_article_intent`, n: i },
      }));
  await seedLedger(t.home, batch(20), { checkpoint: true });
  await seedLedger(t.home, batch(20), { checkpoint: true });
}

Deno.test("saoe audit verify names the first bad record of a deleted, reordered or truncated ledger", async () => {
  const tampering: [string, (db: DatabaseSync) => void, { seq: number; reason: string }][] = [
    ["a deleted record", (db) => db.prepare("DELETE FROM records WHERE seq = 7").run(), {
      seq: 7,
      reason: "seq_gap",
    }],
    ["two records swapped", (db) => {
      const row = db.prepare("SELECT prev_hash, hash, bytes FROM records WHERE seq = ?");
      const a = row.get(12) as { prev_hash: Uint8Array; hash: Uint8Array; bytes: Uint8Array };
      const b = row.get(13) as { prev_hash: Uint8Array; hash: Uint8Array; bytes: Uint8Array };
      const update = db.prepare(
        "UPDATE records SET prev_hash = ?, hash = ?, bytes = ? WHERE seq = ?",
      );
      update.run(b.prev_hash, b.hash, b.bytes, 12);
      update.run(a.prev_hash, a.hash, a.bytes, 13);
    }, { seq: 12, reason: "prev_hash_mismatch" }],
    ["the tail and its checkpoint truncated", (db) => {
      db.prepare("DELETE FROM records WHERE seq > 30").run();
      db.prepare("DELETE FROM checkpoints WHERE tree_size > 30").run();
    }, { seq: 31, reason: "truncated" }],
  ];
  for (const [what, tamper, firstBad] of tampering) {
    const t = await makeHome();
    try {
      await seedForty(t);
      const intact = await runCli(["audit", "verify", "--home", t.root, "--json"]);
      assert.equal(intact.code, 0, `${what}: ${intact.stdout}${intact.stderr}`);
      const db = new DatabaseSync(ledgerPath(t.home));
      tamper(db);
      db.close();
      const json = await runCli(["audit", "verify", "--home", t.root, "--json"]);
      assert.equal(json.code, 1, `${what}: ${json.stdout}`);
      assert.deepEqual(JSON.parse(json.stdout).first_bad, firstBad, what);
      const text = await runCli(["audit", "verify", "--home", t.root]);
      assert.equal(text.code, 1);
      assert.match(
        text.stderr,
        new RegExp(`First bad record: seq ${firstBad.seq} \\(${firstBad.reason}\\)`),
        what,
      );
    } finally {
      await t.cleanup();
    }
  }
});

Deno.test("saoe audit verify refuses checkpoints signed by a key outside the directory", async () => {
  const t = await makeHome();
  try {
    await seedLedger(t.home, events());
    // a checkpoint signed by another home's supervisor: not this directory's key
    const other = await makeHome();
    try {
      const ledger = await openLedger({
        path: ledgerPath(t.home),
        checkpointKey: await supervisorKey(other.home),
        anchorPath: anchorPath(t.home),
      });
      await ledger.checkpoint();
      ledger.close();
    } finally {
      await other.cleanup();
    }
    const r = await runCli(["audit", "verify", "--home", t.root, "--json"]);
    assert.equal(r.code, 1);
    const result = JSON.parse(r.stdout);
    assert.equal(result.ok, false);
    assert.equal(result.first_bad.reason, "checkpoint_signature");
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe audit checkpoint signs the head when stopped and refuses while a pipeline runs", async () => {
  const t = await makeHome();
  try {
    await seedLedger(t.home, events());
    const lock = await holdWriterLock(t.home);
    try {
      const refused = await runCli(["audit", "checkpoint", "--home", t.root]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /the pipeline is running/);
      assert.match(refused.stderr, /it checkpoints every 60 s and at shutdown/);
    } finally {
      lock.release();
    }
    const ok = await runCli(["audit", "checkpoint", "--home", t.root, "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).tree_size, 5);
    const trail = await runCli([
      "audit",
      "events",
      "--home",
      t.root,
      "--type",
      "checkpoint",
      "--json",
    ]);
    const event = JSON.parse(trail.stdout);
    assert.deepEqual([event.seq, event.agent, event.detail], [5, "supervisor", {
      tree_size: 5,
      reason: "operator",
    }]);
    await Deno.lstat(anchorPath(t.home));
    const verify = await runCli(["audit", "verify", "--home", t.root, "--json"]);
    assert.equal(JSON.parse(verify.stdout).checkpoints >= 1, true);

    // a ledger edited while stopped is not blessed with a checkpoint
    const db = new DatabaseSync(ledgerPath(t.home));
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 1").run(
      encodeEvent(buildEvent({ type: "published", agent: "deployment" })),
    );
    db.close();
    const tampered = await runCli(["audit", "checkpoint", "--home", t.root]);
    assert.equal(tampered.code, 1);
    assert.match(tampered.stderr, /does not verify/);
    assert.match(tampered.stderr, /\(ledger_broken\)/);
  } finally {
    await t.cleanup();
  }
});
