/**
 * `saoe keys rotate AGENT` and `saoe keys revoke AGENT` on a running pipeline:
 * the supervisor applies each new directory by itself, restarts the agents with
 * their (new) secrets, and every receiver refuses the old or revoked key with
 * `revoked_key`; a revoked agent is stopped and stays stopped until a rotation
 * re-admits it.
 */
import assert from "node:assert/strict";
import { writeHomeConfig } from "../../core/domain/home/config.ts";
import { submitArticle } from "../../core/services/intake/client.ts";
import { readOperatorToken } from "../../core/domain/keys/operator_token.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { readSupervisorStatus } from "../../core/services/supervisor/status.ts";
import { rotateAgent } from "../../core/services/ceremony/rotate_agent.ts";
import { revokeAgent } from "../../core/services/ceremony/keys_revoke.ts";
import { renewStatements } from "../../core/services/ceremony/renew.ts";
import {
  articlePayload,
  ledgerEvents,
  makeTestHome,
  startTestSupervisor,
  subjectOf,
  verifyTestLedger,
  waitFor,
  waitForEvent,
  waitUntilUp,
} from "./_harness.ts";
import { injectSignedWith } from "./_keys.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "a rotated agent restarts with its new key, and an envelope signed with its old key is refused as revoked_key",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization", "intake"] });
    await writeHomeConfig(t.home.config, {
      ...t.config,
      intake: { ...t.config.intake, person_per_minute: 10_000 },
    });
    await using running = await startTestSupervisor(t, { watchDebounceMs: 100 });
    const { supervisor } = running;
    const intakePid = await waitUntilUp(supervisor, "intake");
    const old = await t.keys.loadAgent("intake");

    const result = await rotateAgent({ home: t.root, agent: "intake", clock: systemClock });
    assert.equal(result.directoryVersion, 2);
    assert.equal(result.retired.length, 1);
    assert.equal(result.recordedBy, "supervisor");
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "key_rotated" && e.detail?.kind === "agent",
      "the supervisor to apply the agent rotation",
    );
    const rotated = events.find((e) => e.type === "key_rotated" && e.detail?.kind === "agent")!;
    assert.deepEqual(rotated.detail?.rotated, ["intake"]);
    assert.deepEqual(rotated.detail?.restarted, ["sanitization", "intake"]);
    await waitUntilUp(supervisor, "intake", { notPid: intakePid });

    // after the switch: the old key is retired, its signature is revoked_key
    const stale = await injectSignedWith(t, {
      seed: old.seed,
      sender: "intake",
      receiver: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload("signed with the retired key"),
    });
    // refused at step 3/4: the envelope id is not trusted yet, the file is named by it
    const refused = await waitForEvent(
      t.home,
      (e) => e.type === "rejected" && e.agent === "sanitization" && e.detail?.sender === "intake",
      "sanitization to refuse the old key",
    );
    const rejection = refused.find((e) => e.type === "rejected")!;
    assert.equal(rejection.reason, "revoked_key");
    await Deno.lstat(`${t.home.agents}/sanitization/dead/${stale.envelope_id}.satl`);

    // the restarted intake signs with its new key, and sanitization accepts it
    const answer = await submitArticle({
      url: supervisor.intakeUrl!,
      credential: await readOperatorToken(t.home.keys, "operator"),
      title: "After the rotation",
      markdown: "New key.",
    });
    assert.ok(answer.ok, JSON.stringify(answer));
    await waitForEvent(
      t.home,
      (e) =>
        e.type === "forwarded" && e.agent === "sanitization" && e.session_id === answer.session_id,
      "sanitization to forward the article intake signed with its new key",
    );
    const all = await ledgerEvents(t.home);
    assert.deepEqual(all.filter((e) => e.type === "sandbox_violation"), []);
    await supervisor.stop();
    const verified = await verifyTestLedger(t);
    assert.ok(verified.ok, verified.message);
  },
});

Deno.test({
  name:
    "a revoked agent is stopped at once and its next envelope is refused; a rotation re-admits it",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization", "intake"] });
    await using running = await startTestSupervisor(t, { watchDebounceMs: 100 });
    const { supervisor } = running;
    await waitUntilUp(supervisor, "intake");
    const stolen = await t.keys.loadAgent("intake");

    const result = await revokeAgent({ home: t.root, agent: "intake", clock: systemClock });
    assert.equal(result.recordedBy, "supervisor");
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "key_rotated" && e.detail?.kind === "revoked",
      "the supervisor to apply the revocation",
    );
    const applied = events.find((e) => e.type === "key_rotated" && e.detail?.kind === "revoked")!;
    assert.deepEqual(applied.detail?.revoked, ["intake"]);
    assert.deepEqual(applied.detail?.restarted, ["sanitization"]);
    const intake = supervisor.agents().find((a) => a.name === "intake")!;
    assert.equal(intake.state, "revoked");
    const status = await waitFor(async () => {
      const s = await readSupervisorStatus(t.home);
      return s?.agents.find((a) => a.name === "intake")?.state === "revoked" && s;
    }, { what: "the status file to show intake revoked" });
    assert.ok(status);

    // its key, used by whoever holds it, is refused at once
    const next = await injectSignedWith(t, {
      seed: stolen.seed,
      sender: "intake",
      receiver: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload("after the revocation"),
    });
    const refused = await waitForEvent(
      t.home,
      (e) => e.type === "rejected" && e.agent === "sanitization" && e.detail?.sender === "intake",
      "sanitization to refuse the revoked agent's envelope",
    );
    assert.equal(refused.find((e) => e.type === "rejected")!.reason, "revoked_key");
    await Deno.lstat(`${t.home.agents}/sanitization/dead/${next.envelope_id}.satl`);
    // the revoked intake is not restarted (the ledger shows it for the whole time, below)
    assert.equal(supervisor.agents().find((a) => a.name === "intake")!.state, "revoked");

    // new keys re-admit it
    await rotateAgent({ home: t.root, agent: "intake", clock: systemClock });
    const restored = (e: (typeof events)[number]) =>
      e.type === "key_rotated" && e.detail?.kind === "agent" &&
      (e.detail?.restored as string[] | undefined)?.includes("intake") === true;
    const readmitted = await waitForEvent(t.home, restored, "the supervisor to re-admit intake");
    await waitUntilUp(supervisor, "intake");
    // from its revocation to its re-admission intake was started once: by the re-admission
    const from = readmitted.findIndex((e) =>
      e.type === "key_rotated" && e.detail?.kind === "revoked"
    );
    const starts = readmitted.slice(from + 1, readmitted.findIndex(restored)).filter((e) =>
      e.type === "agent_started" && subjectOf(e) === "intake"
    );
    assert.equal(starts.length, 1, `intake started ${starts.length} times while revoked`);
    assert.equal(starts[0]!.detail?.pid, supervisor.agents().find((a) => a.name === "intake")!.pid);
  },
});

Deno.test({
  name:
    "a reload in the middle of a rotation (new secrets in keys/, the directory not written yet) does not restart that agent with a key the directory does not list",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization", "intake"] });
    await using running = await startTestSupervisor(t, { watchDebounceMs: 100 });
    const { supervisor } = running;
    const intakePid = await waitUntilUp(supervisor, "intake");
    const sanitizationPid = await waitUntilUp(supervisor, "sanitization");
    // a rotation's first write: intake's new secrets, before its directory
    await t.keys.createAgent("intake");
    // and a verified change of the vault meanwhile (the ceremony's re-encrypted capsets)
    await renewStatements({ home: t.root, clock: systemClock, targets: ["capsets"] });
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "key_rotated" && e.detail?.kind === "renewed",
      "the supervisor to apply the renewed capsets",
    );
    const applied = events.findLast((e) => e.type === "key_rotated")!;
    assert.deepEqual(applied.detail?.restarted, ["sanitization"]);
    await waitUntilUp(supervisor, "sanitization", { notPid: sanitizationPid });
    assert.equal(supervisor.agents().find((a) => a.name === "intake")?.pid, intakePid);
    assert.ok(
      running.logs.some((l) =>
        /agent "intake" is not restarted yet: its keys in keys\/ are not the ones directory v1 lists/
          .test(l)
      ),
      running.logs.join("\n"),
    );
    const all = await ledgerEvents(t.home);
    assert.deepEqual(all.filter((e) => e.type === "sandbox_violation"), []);
  },
});
