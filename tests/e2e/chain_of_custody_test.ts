/**
 * The chain of custody through normal operation, on a real `saoe pipeline` and
 * its real local witness: key rotation, renewal and revocation while it runs,
 * an agent killed with SIGKILL, the supervisor itself killed with SIGKILL and
 * started again, articles published between each step. Every step lands in the
 * one ledger, and `saoe audit verify` stays green against what the witness
 * vouches for, during and after.
 */
import assert from "node:assert/strict";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import { readSupervisorStatus } from "../../core/services/supervisor/status.ts";
import {
  type CliPipeline,
  ledgerEvents,
  makeTestHome,
  runSaoe,
  startCliPipeline,
  type TestHome,
  waitFor,
  waitForEvent,
} from "../supervisor/_harness.ts";
import { alive } from "../_support/process_alive.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

/** Publishes a text-only article through the CLI (`saoe submit --wait`, intake found from the status file). */
async function publish(t: TestHome, title: string): Promise<string> {
  const out = await runSaoe([
    "submit",
    "--home",
    t.root,
    "--json",
    "--title",
    title,
    "--markdown",
    `Body of ${title}.`,
    "--wait",
  ]);
  assert.equal(out.code, 0, `${title} was not published:\n${out.stdout}\n${out.stderr}`);
  return JSON.parse(out.stdout).session_id;
}

/** Waits until every agent but `except` is up, each in a process other than `notPids` names. */
async function allUp(
  t: TestHome,
  options: { except?: string; notPids?: ReadonlyMap<string, number> } = {},
): Promise<Map<string, number>> {
  return await waitFor(async () => {
    const status = await readSupervisorStatus(t.home);
    if (status === undefined || status.state !== "running") return undefined;
    const pids = new Map<string, number>();
    for (const a of status.agents) {
      if (a.name === options.except) continue;
      if (a.state !== "up" || a.pid === undefined) return undefined;
      if (options.notPids?.get(a.name) === a.pid) return undefined;
      pids.set(a.name, a.pid);
    }
    return pids;
  }, { what: "every agent up", timeoutMs: 60_000 });
}

/** `saoe audit verify --json` must pass; returns its result. */
async function verifyGreen(
  t: TestHome,
  when: string,
): Promise<{ size: number; unwitnessed: number }> {
  const out = await runSaoe(["audit", "verify", "--home", t.root, "--json"]);
  assert.equal(out.code, 0, `audit verify failed ${when}:\n${out.stdout}\n${out.stderr}`);
  const result = JSON.parse(out.stdout);
  assert.equal(result.ok, true, when);
  return result;
}

async function ceremony(t: TestHome, args: string[]): Promise<void> {
  const out = await runSaoe(["keys", ...args, "--home", t.root]);
  assert.equal(out.code, 0, `saoe keys ${args.join(" ")}:\n${out.stdout}\n${out.stderr}`);
}

Deno.test({
  name:
    "rotation, renewal, revocation, an agent and the supervisor killed with SIGKILL and a restart: every step is in the ledger and audit verify stays green against the witness",
  ...processTest,
  async fn() {
    await using t = await makeTestHome();
    const sessions: string[] = [];
    let pipeline: CliPipeline | undefined = await startCliPipeline(t);
    try {
      let pids = await allUp(t);
      sessions.push(await publish(t, "Before any ceremony"));

      await ceremony(t, ["rotate", "intake"]);
      await waitForEvent(
        t.home,
        (e) => e.type === "key_rotated" && e.detail?.kind === "agent",
        "the running pipeline to apply the rotation",
      );
      pids = await allUp(t, { notPids: new Map([["intake", pids.get("intake")!]]) });
      sessions.push(await publish(t, "After the rotation"));

      // an agent killed outright is restarted, and nothing it had accepted is lost
      const killed = pids.get("planner")!;
      Deno.kill(killed, "SIGKILL");
      pids = await allUp(t, { notPids: new Map([["planner", killed]]) });
      sessions.push(await publish(t, "After planner was killed"));
      await verifyGreen(t, "while the pipeline runs");

      // the supervisor killed outright: no clean stop, no final checkpoint
      const status = await readSupervisorStatus(t.home);
      const supervisorPid = status!.pid;
      const exit = await pipeline.stop("SIGKILL");
      pipeline = undefined;
      assert.equal(exit.signal, "SIGKILL");
      assert.ok(!alive(supervisorPid));
      // every agent's lifeline (its stdin) ended with the supervisor: none is left working
      await waitFor(() => [...pids.values()].every((pid) => !alive(pid)), {
        what: "the agents of the killed supervisor to stop",
        timeoutMs: 5_000,
      });
      await verifyGreen(t, "after the supervisor was killed");

      pipeline = await startCliPipeline(t);
      pids = await allUp(t);
      sessions.push(await publish(t, "After the restart"));

      await ceremony(t, ["renew", "all"]);
      await waitForEvent(
        t.home,
        (e) => e.type === "key_rotated" && e.detail?.kind === "renewed",
        "the running pipeline to apply the renewal",
      );
      pids = await allUp(t, { notPids: pids });
      sessions.push(await publish(t, "After the renewal"));

      await ceremony(t, ["revoke", "image_filter"]);
      await waitForEvent(
        t.home,
        (e) => e.type === "key_rotated" && e.detail?.kind === "revoked",
        "the running pipeline to apply the revocation",
      );
      await allUp(t, { except: "image_filter" });
      sessions.push(await publish(t, "With image_filter revoked"));

      await ceremony(t, ["rotate", "image_filter"]);
      await waitFor(
        async () =>
          (await ledgerEvents(t.home)).filter((e) => e.type === "key_rotated").length === 4,
        { what: "the running pipeline to re-admit image_filter", timeoutMs: 60_000 },
      );
      await allUp(t);

      const stopped = await pipeline.stop("SIGTERM");
      pipeline = undefined;
      assert.equal(stopped.code, 0);
    } finally {
      await pipeline?.stop("SIGKILL");
    }

    const final = await verifyGreen(t, "after the clean stop");
    assert.equal(final.unwitnessed, 0, "a clean stop leaves every record witnessed");
    const events: AuditEvent[] = await ledgerEvents(t.home);
    assert.equal(final.size, events.length);
    for (const session of sessions) {
      const published = events.filter((e) => e.type === "published" && e.session_id === session);
      assert.equal(published.length, 1, `session ${session} published once`);
    }
    assert.ok(
      events.some((e) =>
        e.type === "agent_exited" && e.detail?.agent === "planner" && e.detail?.signal === "SIGKILL"
      ),
      "the killed agent's exit is in the ledger",
    );
    assert.deepEqual(
      events.filter((e) => e.type === "key_rotated").map((e) => e.detail?.kind),
      ["agent", "renewed", "revoked", "agent"],
    );
  },
});
