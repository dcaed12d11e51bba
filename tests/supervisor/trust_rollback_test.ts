/**
 * A rolled-back trust root under a running pipeline (threat model, attack 8):
 * after a dispatcher rotation was applied (root v2), an attacker with file
 * access puts the previous `trust/` back (root v1 only, directory v1). The
 * supervisor's watch sees the change, re-verifies, refuses it as `rollback`,
 * audits a `trust_refused` event, and keeps running on the state it verified:
 * every agent stays up and the next article is still published.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { readOperatorToken } from "../../core/domain/keys/operator_token.ts";
import { submitArticle } from "../../core/services/intake/client.ts";
import { rotateDispatcher } from "../../core/services/ceremony/rotate_dispatcher.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { makeTestHome, startTestSupervisor, waitForEvent } from "./_harness.ts";

/** Every file under `dir`, by path relative to it. */
async function files(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (folder: string) => {
    for await (const entry of Deno.readDir(folder)) {
      const path = join(folder, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) out.set(relative(dir, path), await Deno.readFile(path));
    }
  };
  await walk(dir);
  return out;
}

Deno.test({
  name:
    "a trust root rolled back under a running pipeline is refused as rollback, audited, and the pipeline keeps working",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    await using running = await startTestSupervisor(t, { watchDebounceMs: 100 });
    const { supervisor } = running;
    const oldTrust = await files(t.home.trust);

    const rotation = await rotateDispatcher({ home: t.root, clock: systemClock });
    assert.equal(rotation.state, "committed");
    await waitForEvent(
      t.home,
      (e) => e.type === "key_rotated" && e.detail?.kind === "dispatcher",
      "the supervisor to apply the rotation",
      60_000,
    );
    assert.deepEqual(supervisor.trustVersions(), { root: 2, directory: 2 });

    // the attacker restores the old trust folder, file by file, as it was before the rotation
    const current = await files(t.home.trust);
    for (const path of current.keys()) {
      if (!oldTrust.has(path)) await Deno.remove(join(t.home.trust, path));
    }
    for (const [path, bytes] of oldTrust) {
      const temp = join(t.home.trust, `${path}.restore`);
      await Deno.writeFile(temp, bytes);
      await Deno.rename(temp, join(t.home.trust, path));
    }

    const events = await waitForEvent(
      t.home,
      (e) => e.type === "trust_refused" && e.reason === "rollback",
      "the supervisor to refuse the rolled-back trust state as rollback",
      30_000,
    );
    // a reload caught halfway through the restore may be refused for another reason first
    const refused = events.filter((e) => e.type === "trust_refused");
    assert.ok(refused.every((e) => e.agent === "supervisor" && e.detail?.root_version === 2));
    assert.deepEqual(supervisor.trustVersions(), { root: 2, directory: 2 });
    assert.ok(!events.some((e) => e.type === "key_rotated" && e.detail?.root_version === 1));

    // the running agents keep the state verified before: an article still goes through
    for (const agent of supervisor.agents()) assert.equal(agent.state, "up", agent.name);
    const answer = await submitArticle({
      url: supervisor.intakeUrl!,
      credential: await readOperatorToken(t.home.keys, "operator"),
      title: "After the rollback attempt",
      markdown: "Still *published*.",
    });
    assert.ok(answer.ok, JSON.stringify(answer));
    const session = answer.session_id;
    await waitForEvent(
      t.home,
      (e) => e.type === "published" && e.session_id === session,
      "the article to be published after the refused rollback",
      30_000,
    );
  },
});
