/**
 * The status file writer on fake timers: the refresh runs only when the clock is
 * ticked, and each write is awaited with `idle()`, so "the refresh did not
 * rewrite the file" is checked after the refresh's write finished, never after a
 * sleep.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import FakeTimers from "@sinonjs/fake-timers";
import type { Capset } from "../../core/domain/capset/types.ts";
import { homeLayout, statusPath } from "../../core/domain/home/layout.ts";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type AgentStatus, readSupervisorStatus } from "../../core/services/supervisor/status.ts";
import { STATUS_REFRESH_MS, StatusWriter } from "../../core/services/supervisor/status_writer.ts";

/** A home with the audit folder and sanitization's inbox and dead-letter folders. */
async function statusHome() {
  const root = await Deno.makeTempDir({ prefix: "saoe-status-" });
  const home = homeLayout(root);
  await Deno.mkdir(home.audit, { recursive: true });
  const paths = queuePaths(home, "sanitization");
  await Deno.mkdir(join(paths.inbox, "intake"), { recursive: true });
  await Deno.mkdir(paths.dead, { recursive: true });
  return {
    home,
    paths,
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
}

Deno.test("StatusWriter's refresh rewrites audit/status.json only when its content changed", async () => {
  await using h = await statusHome();
  const clock = FakeTimers.createClock();
  const agents: AgentStatus[] = [{ name: "sanitization", state: "up", restarts: 0, pid: 4242 }];
  const reported: boolean[] = [];
  const writer = new StatusWriter({
    home: h.home,
    startedAt: "2026-01-01T00:00:00.000Z",
    clock: systemClock,
    log: (line) => assert.fail(line),
    source: {
      state: () => "running",
      agents: () => agents.map((a) => ({ ...a })),
      capset: () => ({ receives: [{ from: "intake" }] }) as unknown as Capset,
    },
    timers: clock,
    onWritten: (rewritten) => reported.push(rewritten),
  });
  const path = statusPath(h.home);
  /** One refresh, awaited to its end: whether it changed the file's inode. */
  const refresh = async (): Promise<boolean> => {
    const before = await Deno.stat(path);
    clock.tick(STATUS_REFRESH_MS);
    await writer.idle();
    const after = await Deno.stat(path);
    return after.ino !== before.ino || after.mtime?.getTime() !== before.mtime?.getTime();
  };
  try {
    writer.start();
    await writer.idle();
    assert.deepEqual(reported, [true], "the first write creates the file");
    assert.equal((await readSupervisorStatus(h.home))?.agents[0]?.queue_depth, 0);

    // nothing changed: the refresh reads the queues and leaves the file alone
    assert.equal(await refresh(), false, "an unchanged status was rewritten");
    assert.equal(await refresh(), false, "an unchanged status was rewritten");
    assert.deepEqual(reported, [true, false, false]);

    // a dead letter and a waiting entry change no agent state, only what the refresh reads
    await Deno.writeTextFile(join(h.paths.dead, `${crypto.randomUUID()}.satl`), "{}");
    assert.equal(await refresh(), true, "a new dead letter was not written");
    assert.equal((await readSupervisorStatus(h.home))?.agents[0]?.dead_letters, 1);
    await Deno.writeTextFile(join(h.paths.inbox, "intake", `${crypto.randomUUID()}.satl`), "{}");
    assert.equal(await refresh(), true, "a new inbox entry was not written");
    assert.equal((await readSupervisorStatus(h.home))?.agents[0]?.queue_depth, 1);
    assert.equal(await refresh(), false, "an unchanged status was rewritten");

    // a state change is written at once, without waiting for the refresh
    agents[0]!.state = "backing-off";
    writer.write();
    await writer.idle();
    assert.equal((await readSupervisorStatus(h.home))?.agents[0]?.state, "backing-off");
    assert.deepEqual(reported, [true, false, false, true, true, false, true]);
  } finally {
    writer.stop();
    await writer.idle();
  }
  assert.equal(clock.countTimers(), 0, "stop() cleared the refresh");
});
