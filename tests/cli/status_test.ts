/**
 * `saoe status` on a real home: stopped and "running" (writer lock held, status
 * file written as the supervisor does), with live inbox and dead-letter counts,
 * the ledger head and a verified checkpoint.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { statusPath } from "../../core/domain/home/layout.ts";
import { inboxFromDir } from "../../core/domain/home/layout.ts";
import { buildEvent } from "../../core/domain/ledger/events.ts";
import { addDeadLetter, holdWriterLock, makeHome, runCli, seedLedger } from "./_fixtures.ts";

Deno.test("saoe status reports a stopped pipeline, queue depths, dead letters and the ledger head", async () => {
  const t = await makeHome();
  try {
    const before = await runCli(["status", "--home", t.root, "--json"]);
    assert.equal(before.code, 0, before.stderr);
    const empty = JSON.parse(before.stdout);
    assert.equal(empty.pipeline.running, false);
    assert.equal(empty.ledger, null);
    assert.equal(empty.checkpoint, null);
    assert.equal(empty.trust.ok, true);
    assert.deepEqual(empty.agents.map((a: { agent: string }) => a.agent), t.config.agents);

    const inbox = inboxFromDir(t.home, "planner", "sanitization");
    await Deno.mkdir(inbox, { recursive: true });
    for (let i = 0; i < 3; i++) {
      await Deno.writeTextFile(join(inbox, `${crypto.randomUUID()}.satl`), "{}");
    }
    await Deno.writeTextFile(join(inbox, ".tmp-in-flight"), "{}");
    await addDeadLetter(t.home, "deployment");
    await addDeadLetter(t.home, "deployment");
    await seedLedger(t.home, [buildEvent({ type: "agent_started", agent: "supervisor" })], {
      checkpoint: true,
    });

    const r = await runCli(["status", "--home", t.root, "--json"]);
    const report = JSON.parse(r.stdout);
    const planner = report.agents.find((a: { agent: string }) => a.agent === "planner");
    const deployment = report.agents.find((a: { agent: string }) => a.agent === "deployment");
    assert.equal(planner.inbox, 3);
    assert.equal(planner.state, "stopped");
    assert.equal(deployment.dead, 2);
    assert.equal(report.ledger.size, 1);
    assert.match(report.ledger.head, /^[0-9a-f]{64}$/);
    assert.equal(report.checkpoint.verified, true);
    assert.equal(report.checkpoint.tree_size, 1);

    const human = await runCli(["status", "--home", t.root]);
    assert.match(human.stdout, /Pipeline:\s+not running/);
    assert.match(human.stdout, /planner\s+stopped\s+-\s+-\s+3\s+0/);
    assert.match(
      human.stdout,
      /Witnessed:\s+1 records, root [0-9a-f]{64}, cosigned by witness\.local\/\S+ \(signatures verified/,
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe status shows the supervisor's agent states while it holds the ledger", async () => {
  const t = await makeHome();
  const lock = await holdWriterLock(t.home);
  try {
    await Deno.writeTextFile(
      statusPath(t.home),
      JSON.stringify({
        format: 1,
        pid: 4242,
        home: t.root,
        state: "running",
        started_at: "2026-01-01T00:00:00Z",
        updated_at: "2026-01-01T00:01:00Z",
        agents: [
          {
            name: "planner",
            state: "up",
            pid: 4300,
            restarts: 2,
            started_at: "2026-01-01T00:00:30Z",
          },
          {
            name: "intake",
            state: "backing-off",
            restarts: 5,
            last_exit: { code: 78, at: "2026-01-01T00:00:59Z" },
          },
        ],
      }),
    );
    const r = await runCli(["status", "--home", t.root]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /Pipeline:\s+running \(supervisor pid 4242, since 2026-01-01T00:00:00Z\)/,
    );
    assert.match(r.stdout, /planner\s+up\s+4300\s+2\s+0\s+0\s+-/);
    assert.match(
      r.stdout,
      /intake\s+backing-off\s+-\s+5\s+0\s+0\s+code 78 at 2026-01-01T00:00:59Z/,
    );
    assert.match(r.stdout, /deployment\s+unknown/);
  } finally {
    lock.release();
  }
  try {
    // the same file with no lock holder is stale: every agent is stopped
    const r = await runCli(["status", "--home", t.root, "--json"]);
    const report = JSON.parse(r.stdout);
    assert.equal(report.pipeline.running, false);
    assert.match(report.pipeline.note, /ended without a clean stop .* 2026-01-01T00:01:00Z/);
    assert.ok(report.agents.every((a: { state: string }) => a.state === "stopped"));
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe status names the missing home and how to create one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runCli(["status", "--home", dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No SAOE home at .*saoe init --home/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
