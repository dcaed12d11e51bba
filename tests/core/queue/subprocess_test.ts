import assert from "node:assert/strict";
import { join } from "node:path";
import { agentDir } from "../../../core/domain/home/layout.ts";
import { entryName, listNames, makeQueueHome, putEntry } from "./_fixtures.ts";

const RECEIVER = new URL("./_receiver.ts", import.meta.url).pathname;

Deno.test("a receiver process with access to only its inbox and agent folder receives entries", async () => {
  await using q = await makeQueueHome();
  const mine = agentDir(q.home, q.receiver);
  const secret = join(q.root, "secret");
  await Deno.writeTextFile(secret, "outside");
  // left by a crash, and present before the watcher starts
  await Deno.writeTextFile(join(q.paths.quarantine, `claimed.${entryName()}`), "recovered");
  await putEntry(q, "intake", "before");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--cached-only",
      `--allow-read=${q.paths.inbox},${mine}`,
      `--allow-write=${q.paths.inbox},${mine}`,
      RECEIVER,
      q.paths.inbox,
      mine,
      q.senders.join(","),
      "5",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const readUntil = async (predicate: () => boolean): Promise<void> => {
    while (!predicate()) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      lines.push(...parts);
    }
  };
  const timeout = setTimeout(() => child.kill(), 20_000);
  try {
    await readUntil(() => lines.includes("ready"));
    await putEntry(q, "sanitization", "after");
    await Deno.symlink(secret, join(q.paths.inbox, "intake", entryName()));
    await putEntry(q, "intake", "last");
    await readUntil(() => false);
    const status = await child.status;
    const stderr = await new Response(child.stderr).text();
    assert.equal(status.code, 0, stderr);
    assert.deepEqual(lines.filter((l) => l !== "ready").sort(), [
      "handled after",
      "handled before",
      "handled last",
      "handled recovered",
      "refused unsafe_path",
    ]);
    assert.equal(await Deno.readTextFile(secret), "outside");
    assert.deepEqual(await listNames(q.paths.quarantine), []);
    for (const sender of q.senders) {
      assert.deepEqual(await listNames(join(q.paths.inbox, sender)), []);
    }
  } finally {
    clearTimeout(timeout);
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    await child.status;
  }
});
