/**
 * A plan whose tools ran but whose result was never delivered can run again for
 * its own envelope. text_formatter's send to deployment fails after the tool
 * call (the target folder is gone, as after a crash at that point the result is
 * lost too); the operator retries the dead letter; the plan runs again (it is
 * bound to that envelope, whose claim the retry re-opened) and the article is
 * published once. A plan's claim is only closed with its envelope's: closing it
 * when the tools returned made this retry (and a crash-resumed envelope) a
 * `replay` refusal, and the session was lost.
 */
import assert from "node:assert/strict";
import { inboxFromDir } from "../../core/domain/home/layout.ts";
import { submitArticle } from "../../core/services/intake/client.ts";
import { readOperatorToken } from "../../core/domain/keys/operator_token.ts";
import { listDead } from "../../core/domain/queue/dead_letter.ts";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import {
  ledgerEvents,
  makeTestHome,
  runSaoe,
  startTestSupervisor,
  waitForEvent,
} from "../supervisor/_harness.ts";

Deno.test({
  name:
    "a plan whose result was never delivered runs again for its retried envelope and the article is published once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    await using running = await startTestSupervisor(t);
    const target = inboxFromDir(t.home, "deployment", "text_formatter");
    // the delivery fails: nobody may enter the folder (it stays the one bound into the sandboxes)
    const mode = (await Deno.stat(target)).mode! & 0o7777;
    await Deno.chmod(target, 0o000);

    const answer = await submitArticle({
      url: running.supervisor.intakeUrl!,
      credential: await readOperatorToken(t.home.keys, "operator"),
      title: "Lost in transit",
      markdown: "Delivered *on the second try*.",
    });
    assert.ok(answer.ok, JSON.stringify(answer));
    const session = answer.session_id;
    await waitForEvent(
      t.home,
      (e) => e.type === "handler_error" && e.agent === "text_formatter" && e.session_id === session,
      "text_formatter to fail sending its result",
    );
    const before = (await ledgerEvents(t.home)).filter((e) => e.session_id === session);
    assert.equal(before.filter((e) => e.type === "tool_executed").length, 1);

    await Deno.chmod(target, mode);
    const dead = await listDead(queuePaths(t.home, "text_formatter").dead);
    assert.equal(dead.length, 1);
    const retry = await runSaoe([
      "quarantine",
      "retry",
      "text_formatter",
      dead[0]!.key,
      "--home",
      t.root,
    ]);
    assert.equal(retry.code, 0, retry.stdout + retry.stderr);

    const events = await waitForEvent(
      t.home,
      (e) => e.type === "published" && e.session_id === session,
      "the retried article to be published",
      30_000,
    );
    const mine = events.filter((e) => e.session_id === session);
    assert.deepEqual(mine.filter((e) => e.type === "plan_rejected"), [], "the plan was refused");
    assert.equal(mine.filter((e) => e.type === "tool_executed").length, 2, "the plan ran again");
    assert.equal(mine.filter((e) => e.type === "published").length, 1);
  },
});
