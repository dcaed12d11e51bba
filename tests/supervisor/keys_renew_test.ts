/**
 * `saoe keys renew` on a running pipeline: with the trust watch off, SIGHUP
 * makes the supervisor re-verify, restart its agents on the renewed statements
 * and record key_rotated (kind renewed); nothing changed means nothing done.
 */
import assert from "node:assert/strict";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { renewStatements } from "../../core/services/ceremony/renew.ts";
import {
  articlePayload,
  injectEnvelope,
  makeTestHome,
  startTestSupervisor,
  waitForEvent,
  waitUntilUp,
} from "./_harness.ts";

Deno.test({
  name:
    "renewed capsets are applied on SIGHUP: the agents restart on them and key_rotated records it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization"] });
    await using running = await startTestSupervisor(t, { watchTrust: false });
    const { supervisor } = running;
    const pid = await waitUntilUp(supervisor, "sanitization");
    assert.deepEqual(await supervisor.reload(), { applied: false, reason: "unchanged" });

    const renewed = await renewStatements({
      home: t.root,
      clock: systemClock,
      targets: ["capsets", "directory"],
    });
    assert.equal(renewed.recordedBy, "supervisor");
    Deno.kill(Deno.pid, "SIGHUP");
    const events = await waitForEvent(
      t.home,
      (e) => e.type === "key_rotated" && e.detail?.kind === "renewed",
      "the supervisor to apply the renewal on SIGHUP",
    );
    const event = events.find((e) => e.type === "key_rotated" && e.detail?.kind === "renewed")!;
    assert.equal(event.detail?.directory_version, 2);
    assert.deepEqual(event.detail?.restarted, ["sanitization"]);
    await waitUntilUp(supervisor, "sanitization", { notPid: pid });

    // the restarted agent works on the renewed state
    const { session_id } = await injectEnvelope(t, {
      sender: "intake",
      receiver: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload("after the renewal"),
    });
    await waitForEvent(
      t.home,
      (e) => e.type === "forwarded" && e.session_id === session_id,
      "sanitization to forward after the renewal",
    );
  },
});
