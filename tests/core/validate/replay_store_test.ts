import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import {
  MemoryReplayStore,
  SqliteReplayStore,
} from "../../../core/domain/validate/replay_store.ts";

const ID = "0190f3a2-7b1c-7def-8a12-3456789abcde";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "saoe_replay_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("SqliteReplayStore keeps a claimed id claimed after the database is reopened", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "replay.db");
    const first = SqliteReplayStore.open(path);
    assert.equal(await first.claim(ID), true);
    first.close();
    const second = SqliteReplayStore.open(path);
    assert.equal(await second.claim(ID), false);
    assert.equal(await second.claim(crypto.randomUUID()), true);
    second.close();
  });
});

Deno.test("SqliteReplayStore gives exactly one true to concurrent claims of one id", async () => {
  await withTempDir(async (dir) => {
    using store = SqliteReplayStore.open(join(dir, "replay.db"));
    const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(ID)));
    assert.equal(results.filter((r) => r).length, 1);
  });
});

Deno.test("SqliteReplayStore gives exactly one true across two connections", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "replay.db");
    using a = SqliteReplayStore.open(path);
    using b = SqliteReplayStore.open(path);
    const ids = Array.from({ length: 50 }, () => crypto.randomUUID());
    const results = await Promise.all(ids.flatMap((id) => [a.claim(id), b.claim(id)]));
    for (let i = 0; i < ids.length; i++) {
      assert.equal(Number(results[2 * i]) + Number(results[2 * i + 1]), 1, String(ids[i]));
    }
  });
});

Deno.test("SqliteReplayStore gives exactly one true across racing processes", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "replay.db");
    SqliteReplayStore.open(path).close(); // create the schema once
    const ids = Array.from({ length: 200 }, () => crypto.randomUUID());
    const idsFile = join(dir, "ids.json");
    await Deno.writeTextFile(idsFile, JSON.stringify(ids));
    const moduleUrl = new URL(
      `file://${resolve("core/domain/validate/replay_store.ts")}`,
    ).href;
    const script = join(dir, "claim.ts");
    await Deno.writeTextFile(
      script,
      `import { SqliteReplayStore } from ${JSON.stringify(moduleUrl)};
const ids = JSON.parse(await Deno.readTextFile(Deno.args[1]));
const store = SqliteReplayStore.open(Deno.args[0]);
let won = 0;
for (const id of ids) if (await store.claim(id)) won++;
store.close();
console.log(won);
`,
    );
    const runs = Array.from({ length: 4 }, () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", "--allow-read", "--allow-write", script, path, idsFile],
        stdout: "piped",
        stderr: "piped",
      }).output());
    const outputs = await Promise.all(runs);
    let total = 0;
    for (const out of outputs) {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      total += Number(new TextDecoder().decode(out.stdout).trim());
    }
    assert.equal(total, ids.length);
  });
});

Deno.test("SqliteReplayStore refuses an id that is not a lowercase UUID before querying", async () => {
  await withTempDir(async (dir) => {
    using store = SqliteReplayStore.open(join(dir, "replay.db"));
    await assert.rejects(
      () => store.claim("x' OR 1=1 --"),
      (err: unknown) => (err as { code?: string }).code === "bad_identifier",
    );
  });
});

Deno.test("MemoryReplayStore claims each id once", async () => {
  const store = new MemoryReplayStore();
  assert.equal(await store.claim(ID), true);
  assert.equal(await store.claim(ID), false);
  assert.equal(store.size, 1);
});

Deno.test("SqliteReplayStore.claimOrResume() resumes an interrupted claim but refuses a handled or failed one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/replay.db`;
    const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    {
      using store = SqliteReplayStore.open(path, { synchronous: "normal" });
      assert.equal(await store.claimOrResume(a), "claimed");
      assert.equal(await store.claimOrResume(b), "claimed");
      assert.equal(await store.claimOrResume(c), "claimed");
      await store.finish(b, "done");
      await store.finish(c, "failed");
    } // the process "crashes" here: a is claimed, never finished
    using store = SqliteReplayStore.open(path, { synchronous: "normal" });
    assert.equal(await store.claimOrResume(a), "resumed");
    assert.equal(await store.claimOrResume(b), "refused");
    assert.equal(await store.claimOrResume(c), "refused");
    // plain claim() never resumes
    assert.equal(await store.claim(a), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteReplayStore.reopen() lets an operator retry a failed claim but never a handled or unknown one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using store = SqliteReplayStore.open(`${dir}/replay.db`, { synchronous: "normal" });
    const [done, failed, unknown] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await store.claimOrResume(done);
    await store.finish(done, "done");
    await store.claimOrResume(failed);
    await store.finish(failed, "failed");
    assert.equal(await store.reopen(failed), true);
    assert.equal(await store.reopen(done), false);
    assert.equal(await store.reopen(unknown), false);
    // finishing only moves an in-progress claim
    await store.finish(done, "failed");
    assert.equal(await store.reopen(done), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
