/**
 * `saoe quarantine list|retry|drop` on real dead-letter records written by the
 * queue module, with the `operator_action` event in the audit ledger checked
 * after each action (no pipeline runs: the CLI appends it itself).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import { operatorActions } from "../_support/operator_actions.ts";
import { addDeadLetter, makeHome, runCli } from "./_fixtures.ts";

Deno.test("saoe quarantine list shows each dead letter with its reason and ids", async () => {
  const t = await makeHome();
  try {
    const a = await addDeadLetter(t.home, "planner", {
      code: "bad_signature",
      message: "Cannot accept envelope: bad signature \u001b[2J",
    });
    const b = await addDeadLetter(t.home, "deployment", { kept: false });
    const all = await runCli(["quarantine", "list", "--home", t.root, "--json"]);
    assert.equal(all.code, 0, all.stderr);
    const entries = JSON.parse(all.stdout).entries;
    assert.deepEqual(entries.map((e: { key: string }) => e.key).sort(), [a.key, b.key].sort());
    const planner = entries.find((e: { agent: string }) => e.agent === "planner");
    assert.equal(planner.code, "bad_signature");
    assert.equal(planner.ids.envelope_id, a.envelopeId);
    assert.equal(planner.retryable, true);
    assert.equal(entries.find((e: { agent: string }) => e.agent === "deployment").retryable, false);

    const one = await runCli(["quarantine", "list", "planner", "--home", t.root]);
    assert.equal(one.code, 0);
    assert.ok(one.stdout.includes(a.key) && !one.stdout.includes(b.key));
    assert.ok(one.stdout.includes("\\u001b[2J") && !one.stdout.includes("\u001b"));
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe quarantine retry moves an unclaimed entry back into the sender's inbox folder and records it", async () => {
  const t = await makeHome();
  try {
    const { key, envelopeId } = await addDeadLetter(t.home, "sanitization");
    const r = await runCli(["quarantine", "retry", "sanitization", key, "--home", t.root]);
    assert.equal(r.code, 0, r.stderr);
    const paths = queuePaths(t.home, "sanitization");
    await Deno.lstat(join(paths.inbox, "intake", `${envelopeId}.satl`));
    await assert.rejects(Deno.lstat(join(paths.dead, `${key}.reason.json`)), Deno.errors.NotFound);
    const [action] = await operatorActions(t.home);
    assert.equal(action!.agent, "supervisor");
    assert.equal(action!.detail?.action, "quarantine_retry");
    assert.equal(action!.detail?.agent, "sanitization");
    assert.equal(action!.envelope_id, envelopeId);
    assert.equal(action!.detail?.pipeline_running, false);
    assert.equal(action!.detail?.recorded_by, "saoe");
    assert.match(r.stdout, /when the pipeline next starts/);
    assert.match(r.stdout, /Recorded in the audit ledger: operator_action, record 1 /);
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe quarantine retry sends a claimed entry through retry/, not the inbox", async () => {
  const t = await makeHome();
  try {
    const { key, envelopeId } = await addDeadLetter(t.home, "planner", {
      code: "handler_error",
      claimed: true,
    });
    const r = await runCli(["quarantine", "retry", "planner", key, "--home", t.root, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const paths = queuePaths(t.home, "planner");
    assert.equal(JSON.parse(r.stdout).moved_to, join(paths.retry, `${envelopeId}.satl`));
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe quarantine drop deletes the record, and refuses what is not there", async () => {
  const t = await makeHome();
  try {
    const { key } = await addDeadLetter(t.home, "planner");
    const r = await runCli(["quarantine", "drop", "planner", key, "--home", t.root]);
    assert.equal(r.code, 0, r.stderr);
    const dead = queuePaths(t.home, "planner").dead;
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dead)), []);
    const [action] = await operatorActions(t.home);
    assert.equal(action!.detail?.action, "quarantine_drop");
    assert.equal(action!.detail?.key, key);

    const again = await runCli(["quarantine", "drop", "planner", key, "--home", t.root]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /No dead letter .* for planner/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe quarantine refuses a kept-false entry on retry and bad arguments with exit code 2", async () => {
  const t = await makeHome();
  try {
    const { key } = await addDeadLetter(t.home, "planner", { kept: false });
    const notKept = await runCli(["quarantine", "retry", "planner", key, "--home", t.root]);
    assert.equal(notKept.code, 1);
    assert.match(notKept.stderr, /unsafe_path/);
    for (
      const args of [
        [],
        ["purge"],
        ["retry"],
        ["retry", "planner"],
        ["retry", "planner", "../../keys/master"],
        ["drop", "nobody", key],
        ["list", "Planner"],
      ]
    ) {
      const r = await runCli(["quarantine", ...args, "--home", t.root]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    }
  } finally {
    await t.cleanup();
  }
});
