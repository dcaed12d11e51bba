import assert from "node:assert/strict";
import { join } from "node:path";
import FakeTimers from "@sinonjs/fake-timers";
import { SaoeError } from "../../core/primitives/errors.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { signStatement } from "../../core/primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../core/primitives/dsse/types.ts";
import { buildEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import { parseCheckpoint } from "../../core/primitives/note/checkpoint.ts";
import { parseNote } from "../../core/primitives/note/note.ts";
import { ledgerPath, witnessedCheckpointPath } from "../../core/domain/home/layout.ts";
import { verifyWitnessedCheckpoint } from "../../core/domain/ledger/checkpoint.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { logOrigin } from "../../core/domain/ledger/log_identity.ts";
import { witnessPolicy } from "../../core/services/witness/policy.ts";
import { startSupervisor } from "../../core/services/supervisor/supervisor.ts";
import { readSupervisorStatus } from "../../core/services/supervisor/status.ts";
import { STATUS_REFRESH_MS } from "../../core/services/supervisor/status_writer.ts";
import {
  articlePayload,
  injectEnvelope,
  ledgerEvents,
  makeTestHome,
  pinTestCode,
  REPO,
  startTestSupervisor,
  subjectOf,
  verifyTestLedger,
  waitFor,
  waitForEvent,
  waitUntilUp,
} from "./_harness.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "startSupervisor() restarts sanitization after kill -9 and the new process still forwards",
  ...processTest,
  async fn() {
    await using t = await makeTestHome();
    await using running = await startTestSupervisor(t);
    const { supervisor } = running;
    const firstPid = await waitUntilUp(supervisor, "sanitization");
    Deno.kill(firstPid, "SIGKILL");
    const secondPid = await waitUntilUp(supervisor, "sanitization", { notPid: firstPid });
    const status = supervisor.agents().find((a) => a.name === "sanitization")!;
    assert.equal(status.restarts, 1);
    assert.equal(status.last_exit?.signal, "SIGKILL");

    const { session_id } = await injectEnvelope(t, {
      sender: "intake",
      receiver: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload("after the crash"),
    });
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "forwarded" && e.agent === "sanitization" && e.session_id === session_id,
      "the restarted sanitization to forward",
    );
    const exited = events.find((e) =>
      e.type === "agent_exited" && subjectOf(e) === "sanitization" && e.detail?.pid === firstPid
    );
    assert.equal(exited?.agent, "supervisor");
    assert.equal(exited?.detail?.signal, "SIGKILL");
    assert.equal(exited?.detail?.requested, false);
    const restarted = events.find((e) =>
      e.type === "agent_started" && subjectOf(e) === "sanitization" && e.detail?.pid === secondPid
    );
    assert.equal(restarted?.detail?.restarts, 1);
    assert.ok(events.indexOf(exited!) < events.indexOf(restarted!), "exit before restart");
    assert.ok(events.some((e) => e.type === "validated" && e.session_id === session_id));

    await supervisor.stop();
    const verification = await verifyTestLedger(t);
    assert.ok(verification.ok, verification.message);
    // the final checkpoint was cosigned by the home's witness: every record is witnessed
    assert.equal(verification.witnessedSize, verification.size);
    assert.equal(verification.unwitnessed, 0);
  },
});

Deno.test({
  name: "startSupervisor() signs a checkpoint each interval in which the ledger grew",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization"] });
    // the checkpoint interval runs on a fake clock: an interval passes when the test ticks it
    const clock = FakeTimers.createClock();
    await using running = await startTestSupervisor(t, {
      checkpointIntervalMs: 200,
      timers: clock,
    });
    await waitForEvent(
      t.home,
      (e) => e.type === "agent_started" && subjectOf(e) === "sanitization",
      "the agent's start in the ledger",
    );
    // the ledger grew since the start: the interval appends its checkpoint before tick() returns
    clock.tick(200);
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "checkpoint" && e.detail?.reason === "interval",
      "an interval checkpoint",
    );
    const checkpoint = events.find((e) => e.type === "checkpoint")!;
    assert.equal(checkpoint.detail?.tree_size, events.indexOf(checkpoint) + 1);
    // the home's witness cosigns it: the cosigned note is stored in the ledger and copied
    // to audit/checkpoint
    const treeSize = checkpoint.detail?.tree_size as number;
    const copy = await waitFor(async () => {
      const text = await Deno.readTextFile(witnessedCheckpointPath(t.home)).catch(() => undefined);
      return text !== undefined && parseCheckpoint(parseNote(text).text).size === treeSize && text;
    }, { what: "the interval checkpoint to be witnessed" });
    const supervisorKey = await SigningKey.fromSeed((await t.keys.loadAgent("supervisor")).seed);
    const witnessed = await verifyWitnessedCheckpoint(copy, {
      origin: logOrigin(t.config.root_pin),
      logKeys: { name: "supervisor checkpoint key", keys: [supervisorKey], threshold: 1 },
      policy: witnessPolicy(t.config),
    });
    assert.deepEqual(witnessed.cosigners.map((c) => c.name), [t.config.witnesses!.list[0]!.name]);
    const reader = await openLedger({ path: ledgerPath(t.home), readOnly: true });
    try {
      assert.deepEqual(reader.latestWitnessed(), { treeSize, note: copy });
      assert.equal(parseNote(reader.checkpointAt(treeSize)!).text, parseNote(copy).text);
      assert.equal(witnessed.root.toHex(), reader.root(treeSize).toHex());
    } finally {
      reader.close();
    }
    // nothing happened since: three more intervals write no further checkpoint
    clock.tick(600);
    const later = await ledgerEvents(t.home);
    assert.equal(later.filter((e) => e.type === "checkpoint").length, 1);
    await running.supervisor.stop();
    const verification = await verifyTestLedger(t);
    assert.ok(verification.ok, verification.message);
    assert.ok(verification.checkpoints >= 2, "the interval and the final checkpoint verify");
    assert.equal(verification.witnessedSize, verification.size, "the final one is witnessed too");
  },
});

/**
 * A repository whose only agent, sanitization, is `source`; removed when disposed.
 * The rest is the real repository's, linked: the supervisor starts the home's local
 * witness from the repository's CLI.
 */
async function fakeSanitizationRepo(source: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-fake-repo-" }));
  for (const name of ["cli", "core", "node_modules"]) {
    await Deno.symlink(join(REPO, name), join(path, name));
  }
  // pinned code files are regular files (a link is a mismatch): copies of the real ones
  for (const name of ["deno.json", "deno.lock"]) {
    await Deno.copyFile(join(REPO, name), join(path, name));
  }
  await Deno.mkdir(join(path, "agents"));
  await Deno.writeTextFile(join(path, "agents", "sanitization.ts"), source);
  // the agents run as their own uids (as root) and must reach the code
  await Deno.chmod(path, 0o755);
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A stand-in agent that reports ready, then one forged line. */
function hostileAgent(forgedLine: string): string {
  return `
const handover = Deno.stdin.readable.getReader(); for (;;) { const { value, done } = await handover.read(); if (done || value.includes(10)) break; } /* the handover line: ignored (the pipe stays open) */
const out = new TextEncoder().encode(${JSON.stringify('{"ready":true}\n' + forgedLine + "\n")});
await Deno.stdout.write(out);
setInterval(() => {}, 1000);
`;
}

Deno.test({
  name:
    "startSupervisor() records a sandbox_violation and does not append an event signed with another agent's key",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization"] });
    const forgedSession = crypto.randomUUID();
    const intake = await SigningKey.fromSeed((await t.keys.loadAgent("intake")).seed);
    const forged = await signStatement({
      payloadType: PAYLOAD_TYPES.auditEvent,
      payload: encodeEvent(buildEvent({
        type: "published",
        agent: "sanitization",
        session_id: forgedSession,
      })),
      signers: [intake],
    });
    // a repository whose sanitization agent is the hostile script above
    await using fake = await fakeSanitizationRepo(
      hostileAgent(new TextDecoder().decode(forged)),
    );
    // the stand-in is pinned as an operator would pin new code: it starts, then misbehaves
    await pinTestCode(t, fake.path, [{ agent: "sanitization", toolModules: [] }]);
    await using running = await startTestSupervisor(t, { repo: fake.path });
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "sandbox_violation",
      "the sandbox violation",
    );
    const violation = events.find((e) => e.type === "sandbox_violation")!;
    assert.equal(violation.agent, "supervisor");
    assert.equal(violation.reason, "bad_signature");
    assert.equal(subjectOf(violation), "sanitization");
    // the offending process is killed and replaced
    await waitFor(
      () => running.supervisor.agents()[0]!.restarts >= 1,
      { what: "the hostile agent to be restarted" },
    );
    await running.supervisor.stop();
    const all = await ledgerEvents(t.home);
    assert.ok(!all.some((e) => e.session_id === forgedSession), "the forged event is not in");
    assert.ok(!all.some((e) => e.type === "published"));
    assert.ok(running.logs.some((l) => l.includes("SANDBOX VIOLATION")));
    const verification = await verifyTestLedger(t);
    assert.ok(verification.ok, verification.message);
  },
});

Deno.test({
  name: "startSupervisor() kills an agent that writes an endless line and records size_exceeded",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization"] });
    await using fake = await fakeSanitizationRepo(
      `const handover = Deno.stdin.readable.getReader(); for (;;) { const { value, done } = await handover.read(); if (done || value.includes(10)) break; } /* the handover line: ignored (the pipe stays open) */
const chunk = new TextEncoder().encode("x".repeat(65536));
for (;;) await Deno.stdout.write(chunk);
`,
    );
    // the stand-in is pinned as an operator would pin new code: it starts, then misbehaves
    await pinTestCode(t, fake.path, [{ agent: "sanitization", toolModules: [] }]);
    await using running = await startTestSupervisor(t, { repo: fake.path });
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "sandbox_violation",
      "the sandbox violation",
    );
    const violation = events.find((e) => e.type === "sandbox_violation")!;
    assert.equal(violation.reason, "size_exceeded");
    await waitFor(
      () => running.supervisor.agents()[0]!.restarts >= 1,
      { what: "the agent to be killed and restarted" },
    );
  },
});

Deno.test({
  name:
    "startSupervisor() moves a hard-linked file out of an agent's store, audits it, and starts the pipeline",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization", "planner"] });
    const store = join(t.home.agents, "planner", "store");
    await Deno.mkdir(store, { recursive: true });
    const outside = join(t.root, "outside.txt");
    await Deno.writeTextFile(outside, "not for agents");
    const planted = join(store, "replay.db");
    await Deno.link(outside, planted);
    await using running = await startTestSupervisor(t);
    await waitUntilUp(running.supervisor, "planner");
    // the name in the store no longer shares the outside file (planner may have made its own
    // replay.db since); the planted name is kept in the supervisor's strays folder
    const now = await Deno.lstat(planted).catch(() => undefined);
    assert.ok(now === undefined || now.ino !== (await Deno.lstat(outside)).ino);
    assert.equal(await Deno.readTextFile(outside), "not for agents");
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "stray_moved",
      "the stray_moved event",
    );
    const moved = events.find((e) => e.type === "stray_moved")!;
    assert.equal(moved.reason, "unsafe_path");
    assert.equal(moved.detail?.from, planted);
    assert.equal(moved.detail?.kind, "hard_link");
    const to = String(moved.detail?.to);
    assert.ok(to.startsWith(join(t.home.agents, "supervisor", "strays") + "/"), to);
    assert.equal(await Deno.readTextFile(to), "not for agents");
    assert.ok(running.logs.some((l) => l.includes(`moved hard_link ${planted} aside`)));
  },
});

Deno.test({
  name: "startSupervisor() refuses a tampered capability set, naming the file and the fix",
  ...processTest,
  async fn() {
    await using t = await makeTestHome();
    const path = join(t.home.vault, "capsets", "planner.age");
    const bytes = await Deno.readFile(path);
    bytes[bytes.length - 5]! ^= 0xff;
    await Deno.remove(path);
    await Deno.writeFile(path, bytes);
    await assert.rejects(
      startSupervisor({ home: t.root, repo: REPO, log: () => {} }),
      (err: unknown) =>
        err instanceof SaoeError && err.message.includes(path) && err.message.includes("Fix:"),
    );
    assert.deepEqual(await ledgerEvents(t.home), []);
  },
});

Deno.test({
  name: "startSupervisor() refuses a home whose root pin does not match trust root v1",
  ...processTest,
  async fn() {
    await using t = await makeTestHome();
    const config = JSON.parse(await Deno.readTextFile(t.home.config));
    config.root_pin = "0".repeat(64);
    await Deno.writeTextFile(t.home.config, JSON.stringify(config));
    await assert.rejects(
      startSupervisor({ home: t.root, repo: REPO, log: () => {} }),
      (err: unknown) => err instanceof SaoeError && err.code === "root_pin_mismatch",
    );
  },
});

Deno.test({
  name: "startSupervisor() leaves audit/status.json alone while nothing changes",
  ...processTest,
  async fn() {
    await using t = await makeTestHome();
    // the status refresh runs on a fake clock: it runs when the test ticks it
    const clock = FakeTimers.createClock();
    const written: boolean[] = [];
    await using running = await startTestSupervisor(t, {
      timers: clock,
      // a checkpoint (within 1 s of an append by default) changes the ledger's size and
      // the witnesses' states: none falls due while this test ticks the refresh
      checkpointIntervalMs: 60 * STATUS_REFRESH_MS,
      onStatusWritten: (rewritten) => written.push(rewritten),
    });
    for (const agent of ["sanitization", "planner", "deployment"]) {
      await waitUntilUp(running.supervisor, agent);
    }
    const path = join(t.home.audit, "status.json");
    // the last state change's write lands: the file shows every agent as the supervisor sees it
    const states = (agents: { name: string; state: string; pid?: number }[]) =>
      JSON.stringify(agents.map((a) => [a.name, a.state, a.pid]));
    await waitFor(async () => {
      const status = await readSupervisorStatus(t.home);
      return status !== undefined && states(status.agents) === states(running.supervisor.agents());
    }, { what: "the status file to show the agents' current states" });
    const before = await Deno.stat(path);
    // then the refresh must find nothing new; its write is reported once it is done
    const requested = written.length;
    clock.tick(STATUS_REFRESH_MS);
    await waitFor(() => written.length > requested, { what: "the refresh's write" });
    assert.equal(written[requested], false, "the refresh reported a rewrite");
    const after = await Deno.stat(path);
    assert.equal(after.ino, before.ino, "status.json was rewritten with the same content");
    assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
  },
});

Deno.test({
  name:
    "startSupervisor() kills an agent whose ready line reports a listen address its capset does not grant",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization"] });
    // sanitization's capset grants no network: claiming a port is a lie
    await using fake = await fakeSanitizationRepo(
      `
const handover = Deno.stdin.readable.getReader(); for (;;) { const { value, done } = await handover.read(); if (done || value.includes(10)) break; } /* the handover line: ignored (the pipe stays open) */
await Deno.stdout.write(new TextEncoder().encode('{"ready":true,"listen":"127.0.0.1:4711"}\\n'));
setInterval(() => {}, 1000);
`,
    );
    // the stand-in is pinned as an operator would pin new code: it starts, then misbehaves
    await pinTestCode(t, fake.path, [{ agent: "sanitization", toolModules: [] }]);
    await using running = await startTestSupervisor(t, { repo: fake.path });
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "sandbox_violation",
      "the sandbox violation",
    );
    const violation = events.find((e) => e.type === "sandbox_violation")!;
    assert.equal(violation.reason, "sender_not_allowed");
    assert.match(String(violation.detail?.message), /127\.0\.0\.1:4711.*does not grant/);
    assert.equal(running.supervisor.agents()[0]!.listen, undefined);
    await running.supervisor.stop();
  },
});
