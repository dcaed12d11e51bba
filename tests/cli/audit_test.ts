/**
 * `saoe audit events|verify|checkpoint|prove|verify-proof` on a real home and
 * ledger, run as a user runs them (subprocess, `deno task saoe` flags). The
 * ledger is cosigned by the home's own local witness, which `saoe audit verify`
 * starts and asks by itself when no pipeline runs.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { fromBase64, toBase64 } from "../../core/primitives/crypto/bytes.ts";
import { ledgerPath, witnessedCheckpointPath } from "../../core/domain/home/layout.ts";
import { readHomeConfig } from "../../core/domain/home/config.ts";
import { buildEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import {
  holdWriterLock,
  homeOrigin,
  makeHome,
  runCli,
  seedLedger,
  supervisorKey,
} from "./_fixtures.ts";

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
    // checked against what the home's local witness (started by the command) vouches for
    const witness = (await readHomeConfig(t.home.config)).witnesses!.list[0]!.name;
    assert.equal(result.witnessed_size, 4);
    assert.equal(result.unwitnessed, 0);
    assert.equal(result.witnessed_by, `witness ${witness}`);
    assert.match(ok.stderr, /local witness .* listening on http:\/\/127\.0\.0\.1:\d+/);

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
    ["the tail, its checkpoint and its witnessed record truncated", (db) => {
      db.prepare("DELETE FROM records WHERE seq > 30").run();
      db.prepare("DELETE FROM checkpoints WHERE tree_size > 30").run();
      db.prepare("DELETE FROM witnessed WHERE tree_size > 30").run();
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
        origin: await homeOrigin(t.home),
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
      assert.match(
        refused.stderr,
        /it checkpoints within a second of every append and at shutdown/,
      );
    } finally {
      lock.release();
    }
    const ok = await runCli(["audit", "checkpoint", "--home", t.root, "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    const written = JSON.parse(ok.stdout);
    assert.equal(written.tree_size, 5);
    assert.equal(written.witnessed, true);
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
    // the cosigned checkpoint is stored, with the operators' copy in audit/checkpoint
    const copy = await Deno.readTextFile(witnessedCheckpointPath(t.home));
    assert.match(copy, new RegExp(`^${await homeOrigin(t.home)}\n5\n`));
    const verify = await runCli(["audit", "verify", "--home", t.root, "--json"]);
    const verified = JSON.parse(verify.stdout);
    assert.equal(verified.checkpoints >= 1, true);
    assert.equal(verified.witnessed_size, 5);

    // a ledger edited while stopped is not blessed with a checkpoint
    const db = new DatabaseSync(ledgerPath(t.home));
    db.prepare("UPDATE records SET bytes = ? WHERE seq = 1").run(
      encodeEvent(buildEvent({ type: "published", agent: "deployment" })),
    );
    db.close();
    const tampered = await runCli(["audit", "checkpoint", "--home", t.root]);
    assert.equal(tampered.code, 1);
    assert.match(tampered.stderr, /Ledger broken at seq 1: hash does not match its bytes/);
    assert.match(tampered.stderr, /\(ledger_broken\)/);
    assert.doesNotMatch(tampered.stdout, /Checkpoint written/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe audit verify asks the witness: a deleted ledger exits 1 naming missing and the size the witness vouches for", async () => {
  const t = await makeHome();
  try {
    await seedForty(t);
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(`${ledgerPath(t.home)}${suffix}`).catch(() => {});
    }
    const witness = (await readHomeConfig(t.home.config)).witnesses!.list[0]!.name;
    const text = await runCli(["audit", "verify", "--home", t.root]);
    assert.equal(text.code, 1, text.stdout);
    assert.match(
      text.stderr,
      new RegExp(
        `saoe audit verify: Ledger missing: witness ${
          witness.replace(/[./]/g, "\\$&")
        } vouches for 40 records at root [0-9a-f]{12}…; .*ledger\\.db is gone`,
      ),
    );
    assert.match(text.stderr, /First bad record: seq 1 \(missing\)/);
    assert.equal(text.stdout, "");
    const json = await runCli(["audit", "verify", "--home", t.root, "--json"]);
    assert.equal(json.code, 1);
    const result = JSON.parse(json.stdout);
    assert.equal(result.ok, false);
    assert.deepEqual(result.first_bad, { seq: 1, reason: "missing" });
    assert.equal(result.witnessed_size, 40);
    assert.equal(result.size, 0);
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe audit verify --checkpoint FILE checks against a cosigned copy kept elsewhere and refuses a forged one", async () => {
  const t = await makeHome();
  try {
    await seedForty(t);
    const kept = join(t.root, "..", "kept-checkpoint");
    await Deno.copyFile(witnessedCheckpointPath(t.home), kept);
    const ok = await runCli(["audit", "verify", "--home", t.root, "--checkpoint", kept, "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).witnessed_size, 40);
    assert.match(
      JSON.parse(ok.stdout).witnessed_by,
      /^the checkpoint in .*kept-checkpoint \(cosigned by witness\.local\//,
    );

    const db = new DatabaseSync(ledgerPath(t.home));
    db.exec(
      "DELETE FROM records WHERE seq > 25; DELETE FROM checkpoints WHERE tree_size > 25; DELETE FROM witnessed;",
    );
    db.close();
    await Deno.remove(witnessedCheckpointPath(t.home));
    const cut = await runCli(["audit", "verify", "--home", t.root, "--checkpoint", kept]);
    assert.equal(cut.code, 1);
    assert.match(
      cut.stderr,
      /Ledger truncated at seq 26: the checkpoint in .*kept-checkpoint .* vouches for 40 records/,
    );

    // the copy edited to vouch for fewer records: its signatures no longer verify
    const forged = join(t.root, "..", "forged-checkpoint");
    await Deno.writeTextFile(forged, (await Deno.readTextFile(kept)).replace("\n40\n", "\n25\n"));
    const refused = await runCli(["audit", "verify", "--home", t.root, "--checkpoint", forged]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /checkpoint file .*forged-checkpoint/);
    assert.match(refused.stderr, /\(checkpoint_signature\)/);
  } finally {
    await t.cleanup();
  }
});

/** Four events (sessions A and B), then four more, each batch checkpointed and witnessed. */
async function seedProvable(t: Awaited<ReturnType<typeof makeHome>>): Promise<void> {
  await seedLedger(t.home, events(), { checkpoint: true });
  await seedLedger(t.home, [
    buildEvent({ type: "forwarded", agent: "sanitization", session_id: SESSION_A }),
    buildEvent({ type: "validated", agent: "planner", session_id: SESSION_B }),
    buildEvent({ type: "published", agent: "deployment", session_id: SESSION_A }),
    buildEvent({ type: "agent_started", agent: "supervisor", detail: { agent: "viewer" } }),
  ], { checkpoint: true });
}

Deno.test("saoe audit prove writes proofs for a record and a session that saoe audit verify-proof accepts offline", async () => {
  const t = await makeHome();
  try {
    await seedProvable(t);
    const witness = (await readHomeConfig(t.home.config)).witnesses!.list[0]!.name;
    const dir = join(t.root, "..");
    const record = join(dir, "record.json");
    const wrote = await runCli([
      "audit",
      "prove",
      "--home",
      t.root,
      "--seq",
      "3",
      "--out",
      record,
      "--json",
    ]);
    assert.equal(wrote.code, 0, wrote.stderr);
    const summary = JSON.parse(wrote.stdout);
    assert.deepEqual([summary.ok, summary.tree_size, summary.witnessed, summary.records], [
      true,
      8,
      true,
      1,
    ]);
    // the bundle carries the record's exact bytes and the witnessed checkpoint
    const bundle = JSON.parse(await Deno.readTextFile(record));
    const reader = await openLedger({ path: ledgerPath(t.home), readOnly: true });
    try {
      assert.deepEqual(
        fromBase64(bundle.inclusion[0].record, "record"),
        reader.read({ afterSeq: 2, limit: 1 })[0]!.bytes,
      );
      assert.equal(bundle.checkpoint, reader.latestWitnessed()!.note);
    } finally {
      reader.close();
    }
    const checked = await runCli(["audit", "verify-proof", "--home", t.root, record, "--json"]);
    assert.equal(checked.code, 0, checked.stderr);
    const result = JSON.parse(checked.stdout);
    assert.equal(result.ok, true);
    assert.equal(result.tree_size, 8);
    assert.equal(result.witnessed, true);
    assert.deepEqual(result.cosigners, [witness]);
    assert.deepEqual(result.included, [3]);

    // every record of session A, and the tree of 4 records as a prefix of the tree of 8
    const session = join(dir, "session.json");
    const sessionRun = await runCli([
      "audit",
      "prove",
      "--home",
      t.root,
      "--session",
      SESSION_A,
      "--from",
      "4",
      "--out",
      session,
    ]);
    assert.equal(sessionRun.code, 0, sessionRun.stderr);
    assert.match(
      sessionRun.stdout,
      /4 inclusion proof\(s\) and a consistency proof from 4 against the witnessed checkpoint of 8 records/,
    );
    const human = await runCli(["audit", "verify-proof", "--home", t.root, session]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stdout,
      /^ok: checkpoint of 8 records \(cosigned by witness\.local\/[0-9a-f]+\); 4 record\(s\) proven included; the tree of 4 records is a prefix\n$/,
    );
    const sessionJson = await runCli([
      "audit",
      "verify-proof",
      "--home",
      t.root,
      session,
      "--json",
    ]);
    assert.deepEqual(JSON.parse(sessionJson.stdout).included, [2, 3, 5, 7]);
    assert.equal(JSON.parse(sessionJson.stdout).consistent_from, 4);
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe audit verify-proof refuses a tampered proof file, naming what does not verify", async () => {
  const t = await makeHome();
  try {
    await seedProvable(t);
    const dir = join(t.root, "..");
    const good = join(dir, "good.json");
    const made = await runCli([
      "audit",
      "prove",
      "--home",
      t.root,
      "--session",
      SESSION_A,
      "--from",
      "4",
      "--out",
      good,
    ]);
    assert.equal(made.code, 0, made.stderr);
    const original = await Deno.readTextFile(good);
    type Bundle = {
      checkpoint: string;
      inclusion: { seq: number; record: string; proof: string[] }[];
      consistency: { old_size: number; old_root: string; proof: string[] };
    };
    const flip = (b64: string) => {
      const bytes = fromBase64(b64, "hash");
      bytes[bytes.length - 1]! ^= 0x01;
      return toBase64(bytes);
    };
    const forged = encodeEvent(
      buildEvent({ type: "published", agent: "deployment", session_id: SESSION_A }),
    );
    const tampers: [string, (b: Bundle) => void, RegExp][] = [
      [
        "a record's bytes replaced",
        (b) => {
          b.inclusion[1]!.record = toBase64(forged);
        },
        /inclusion proof of record 3 does not verify against the checkpoint of 8 records \(ledger_broken\)/,
      ],
      ["a proof hash changed", (b) => {
        b.inclusion[0]!.proof[0] = flip(b.inclusion[0]!.proof[0]!);
      }, /inclusion proof of record 2 does not verify/],
      ["a record moved to another seq", (b) => {
        b.inclusion[2]!.seq = 6;
      }, /inclusion proof of record 6 does not verify/],
      ["the checkpoint edited to another size", (b) => {
        b.checkpoint = b.checkpoint.replace("\n8\n", "\n9\n");
      }, /\(checkpoint_signature\)/],
      ["the witness's cosignature removed", (b) => {
        b.checkpoint = b.checkpoint.split("\n").filter((l) => !l.startsWith("— witness.local/"))
          .join("\n");
      }, /0 of the 1 configured witnesses cosigned it, 1 required \(checkpoint_signature\)/],
      ["the consistency proof changed", (b) => {
        b.consistency.proof[0] = flip(b.consistency.proof[0]!);
      }, /consistency proof from 4 to 8 records does not verify/],
    ];
    for (const [what, tamper, reason] of tampers) {
      const bundle = JSON.parse(original) as Bundle;
      tamper(bundle);
      const file = join(dir, "tampered.json");
      await Deno.writeTextFile(file, JSON.stringify(bundle));
      const r = await runCli(["audit", "verify-proof", "--home", t.root, file]);
      assert.equal(r.code, 1, `${what}: ${r.stdout}`);
      assert.match(r.stderr, reason, what);
      assert.equal(r.stdout, "", what);
    }
    // the untouched bundle still verifies
    const ok = await runCli(["audit", "verify-proof", "--home", t.root, good]);
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe audit prove refuses when no witness cosigned yet; --unwitnessed proves against the log's own checkpoint", async () => {
  const t = await makeHome();
  try {
    await seedLedger(t.home, events(), { checkpoint: true, witness: false });
    const refused = await runCli(["audit", "prove", "--home", t.root, "--seq", "1"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /no witness has cosigned a checkpoint of this ledger yet/);
    const file = join(t.root, "..", "unwitnessed.json");
    const wrote = await runCli([
      "audit",
      "prove",
      "--home",
      t.root,
      "--seq",
      "4",
      "--unwitnessed",
      "--out",
      file,
    ]);
    assert.equal(wrote.code, 0, wrote.stderr);
    const checked = await runCli(["audit", "verify-proof", "--home", t.root, file]);
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /checkpoint of 4 records \(NOT witnessed/);
    // beyond what the checkpoint covers there is nothing to prove
    const beyond = await runCli([
      "audit",
      "prove",
      "--home",
      t.root,
      "--seq",
      "5",
      "--unwitnessed",
    ]);
    assert.equal(beyond.code, 1);
  } finally {
    await t.cleanup();
  }
});
