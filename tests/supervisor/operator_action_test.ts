/**
 * Operator actions are ledger events: `saoe quarantine drop` run as a user runs
 * it lands in the audit ledger as an `operator_action` event, appended by the
 * CLI itself while no pipeline runs, and handed to the running supervisor
 * (a request signed with the supervisor's key in `agents/supervisor/requests/`)
 * while one runs. A request signed by another key, a stale one and a replayed
 * one are refused and recorded as `operator_action_refused`, never appended as
 * given.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateSeed, SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { writeFileAtomic } from "../../core/primitives/fs/atomic_write.ts";
import { supervisorRequestsDir } from "../../core/domain/home/layout.ts";
import {
  type OperatorAction,
  requestFileName,
  signOperatorRequest,
} from "../../core/domain/ledger/operator_action.ts";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import { addDeadLetter } from "../cli/_fixtures.ts";
import {
  ledgerEvents,
  makeTestHome,
  runSaoe,
  startTestSupervisor,
  type TestHome,
  waitFor,
  waitForEvent,
} from "./_harness.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

function dropAction(key: string): OperatorAction {
  return { action: "quarantine_drop", agent: "sanitization", key, pipeline_running: true };
}

async function drop(
  t: TestHome,
): Promise<{ key: string; envelopeId: string; out: Record<string, unknown> }> {
  const { key, envelopeId } = await addDeadLetter(t.home, "sanitization");
  const r = await runSaoe(["quarantine", "drop", "sanitization", key, "--home", t.root, "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const dead = queuePaths(t.home, "sanitization").dead;
  assert.ok(!(await Array.fromAsync(Deno.readDir(dead))).some((e) => e.name.startsWith(key)));
  return { key, envelopeId, out: JSON.parse(r.stdout) };
}

Deno.test({
  name: "a quarantine drop while no pipeline runs is appended to the ledger by the CLI itself",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization", "intake"] });
    const { key, envelopeId, out } = await drop(t);
    assert.equal(out.pipeline_running, false);
    assert.equal(out.recorded_by, "ledger");
    const events = await ledgerEvents(t.home);
    const action = events.find((e) => e.type === "operator_action")!;
    assert.equal(out.recorded_seq, events.indexOf(action) + 1);
    assert.equal(action.agent, "supervisor");
    assert.equal(action.envelope_id, envelopeId);
    assert.deepEqual(
      [action.detail?.action, action.detail?.agent, action.detail?.key, action.detail?.recorded_by],
      ["quarantine_drop", "sanitization", key, "saoe"],
    );
    assert.equal(action.detail?.pipeline_running, false);
    assert.equal(action.detail?.request_id, undefined);
    // the ledger with the CLI's record still verifies against the witnesses at the next start
    await using running = await startTestSupervisor(t);
    assert.ok(running.supervisor.agents().length > 0);
  },
});

Deno.test({
  name:
    "a quarantine drop while the pipeline runs is appended by the supervisor; a forged, a stale and a replayed request are refused",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization", "intake"] });
    await using running = await startTestSupervisor(t);
    const requests = supervisorRequestsDir(t.home);

    const { key, envelopeId, out } = await drop(t);
    assert.equal(out.pipeline_running, true);
    assert.equal(out.recorded_by, "supervisor");
    const events = await ledgerEvents(t.home);
    const action = events.find((e) => e.type === "operator_action")!;
    assert.equal(out.recorded_seq, events.indexOf(action) + 1);
    assert.equal(action.agent, "supervisor");
    assert.equal(action.envelope_id, envelopeId);
    assert.deepEqual(
      [action.detail?.action, action.detail?.key, action.detail?.recorded_by],
      ["quarantine_drop", key, "supervisor"],
    );
    assert.equal(action.detail?.pipeline_running, true);
    assert.equal(action.detail?.request_id, out.request_id);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(requests)), [], "the request was removed");

    const refusal = async (name: string, bytes: Uint8Array) => {
      await writeFileAtomic(join(requests, name), bytes);
      const all = await waitForEvent(
        t.home,
        (e) => e.type === "operator_action_refused" && e.detail?.file === name,
        `the supervisor to refuse ${name}`,
      );
      await waitFor(
        async () => !(await Deno.lstat(join(requests, name)).then(() => true, () => false)),
        { what: `${name} to be removed` },
      );
      return all.find((e) => e.type === "operator_action_refused" && e.detail?.file === name)!;
    };

    // signed by another key: refused as bad_signature, nothing of it appended
    const other = await SigningKey.fromSeed(generateSeed());
    const forged = await signOperatorRequest({
      action: dropAction("00000000-0000-4000-8000-000000000001"),
      signer: other,
      clock: { now: Date.now },
    });
    const forgedName = requestFileName(forged.requestId);
    const refused = await refusal(forgedName, forged.bytes);
    assert.equal(refused.agent, "supervisor");
    assert.equal(refused.reason, "bad_signature");

    // signed with the supervisor's key, but long ago: not fresh
    const secrets = await t.keys.loadAgent("supervisor");
    const own = await SigningKey.fromSeed(secrets.seed);
    const stale = await signOperatorRequest({
      action: dropAction("00000000-0000-4000-8000-000000000002"),
      signer: own,
      clock: { now: () => Date.now() - 3_600_000 },
    });
    assert.equal((await refusal(requestFileName(stale.requestId), stale.bytes)).reason, "expired");

    // a valid request is appended once; the same file put back is a replay
    const valid = await signOperatorRequest({
      action: dropAction("00000000-0000-4000-8000-000000000003"),
      signer: own,
      clock: { now: Date.now },
    });
    const validName = requestFileName(valid.requestId);
    await writeFileAtomic(join(requests, validName), valid.bytes);
    await waitForEvent(
      t.home,
      (e) => e.type === "operator_action" && e.detail?.request_id === valid.requestId,
      "the supervisor to append the valid request",
    );
    await waitFor(
      async () => !(await Deno.lstat(join(requests, validName)).then(() => true, () => false)),
      { what: "the valid request to be removed" },
    );
    assert.equal((await refusal(validName, valid.bytes)).reason, "replay");

    const all = await ledgerEvents(t.home);
    const appended = all.filter((e) => e.type === "operator_action");
    assert.deepEqual(
      appended.map((e) => e.detail?.request_id),
      [out.request_id, valid.requestId],
      "only the CLI's request and the valid one were appended",
    );
    assert.ok(!all.some((e) => e.type === "sandbox_violation"));
    assert.ok(running.logs.some((l) => l.includes(`operator request ${forgedName} refused`)));
  },
});
