import assert from "node:assert/strict";
import { join } from "node:path";
import { isSaoeError, SaoeError } from "../../../core/primitives/errors.ts";
import { dropDead, listDead, retryDead } from "../../../core/domain/queue/dead_letter.ts";
import { processEntry } from "../../../core/domain/queue/process.ts";
import { entryName, listNames, makeQueueHome, putEntry, type QueueHome } from "./_fixtures.ts";

async function refuseEntry(q: QueueHome, code: "schema" | "handler_error"): Promise<string> {
  const name = await putEntry(q, "intake", "x");
  await processEntry({
    path: join(q.paths.inbox, "intake", name),
    origin: { kind: "inbox", sender: "intake" },
    quarantineDir: q.paths.quarantine,
    deadDir: q.paths.dead,
    validate: () =>
      code === "schema"
        ? Promise.reject(new SaoeError("schema", "Invalid payload: expected an object"))
        : Promise.resolve(1),
    handle: () => Promise.reject(new Error("handler broke")),
  });
  return name;
}

Deno.test("listDead() lists each dead entry with its reason", async () => {
  await using q = await makeQueueHome();
  const refused = await refuseEntry(q, "schema");
  const failed = await refuseEntry(q, "handler_error");
  await Deno.writeTextFile(join(q.paths.dead, "stray.bin"), "?");
  const list = await listDead(q.paths.dead);
  const byFile = new Map(list.map((e) => [e.reason?.file ?? e.key, e]));
  assert.equal(byFile.get(refused)?.reason?.code, "schema");
  assert.equal(byFile.get(refused)?.reason?.claimed, false);
  assert.equal(byFile.get(failed)?.reason?.code, "handler_error");
  assert.equal(byFile.get(failed)?.reason?.claimed, true);
  assert.equal(byFile.get(failed)?.entryPath, join(q.paths.dead, failed));
  assert.equal(byFile.get("stray.bin")?.problem, "not a dead-letter record");
});

Deno.test("listDead() flags a sidecar with unknown fields instead of trusting it", async () => {
  await using q = await makeQueueHome();
  const name = await refuseEntry(q, "schema");
  const sidecar = join(q.paths.dead, `${name.slice(0, -5)}.reason.json`);
  const parsed = JSON.parse(await Deno.readTextFile(sidecar));
  await Deno.writeTextFile(sidecar, JSON.stringify({ ...parsed, claimed: true, extra: 1 }));
  const [entry] = await listDead(q.paths.dead);
  assert.equal(entry?.reason, null);
  assert.match(entry?.problem ?? "", /cannot be read/);
  await assert.rejects(
    retryDead({
      deadDir: q.paths.dead,
      inbox: q.paths.inbox,
      retryDir: q.paths.retry,
      key: name.slice(0, -5),
    }),
    (err: unknown) => isSaoeError(err, "parse_error"),
  );
});

Deno.test("retryDead() puts a refused, never-claimed entry back into its sender's inbox folder", async () => {
  await using q = await makeQueueHome();
  const name = await refuseEntry(q, "schema");
  const target = await retryDead({
    deadDir: q.paths.dead,
    inbox: q.paths.inbox,
    retryDir: q.paths.retry,
    key: name.slice(0, -5),
  });
  assert.equal(target, join(q.paths.inbox, "intake", name));
  assert.equal(await Deno.readTextFile(target), "x");
  assert.deepEqual(await listNames(q.paths.dead), []);
});

Deno.test("retryDead() puts a claimed handler_error entry into retry/, not the inbox", async () => {
  await using q = await makeQueueHome();
  const name = await refuseEntry(q, "handler_error");
  const target = await retryDead({
    deadDir: q.paths.dead,
    inbox: q.paths.inbox,
    retryDir: q.paths.retry,
    key: name.slice(0, -5),
  });
  assert.equal(target, join(q.paths.retry, name));
  assert.deepEqual(await listNames(join(q.paths.inbox, "intake")), []);
});

Deno.test("retryDead() refuses a record whose entry was a planted link", async () => {
  await using q = await makeQueueHome();
  const name = entryName();
  await Deno.symlink("/etc/hostname", join(q.paths.inbox, "intake", name));
  await processEntry({
    path: join(q.paths.inbox, "intake", name),
    origin: { kind: "inbox", sender: "intake" },
    quarantineDir: q.paths.quarantine,
    deadDir: q.paths.dead,
    validate: () => Promise.resolve(0),
    handle: () => Promise.resolve(),
  });
  await assert.rejects(
    retryDead({
      deadDir: q.paths.dead,
      inbox: q.paths.inbox,
      retryDir: q.paths.retry,
      key: name.slice(0, -5),
    }),
    (err: unknown) => isSaoeError(err, "unsafe_path"),
  );
});

Deno.test("retryDead() refuses a destination that is already taken", async () => {
  await using q = await makeQueueHome();
  const name = await refuseEntry(q, "schema");
  await Deno.writeTextFile(join(q.paths.inbox, "intake", name), "newer");
  await assert.rejects(
    retryDead({
      deadDir: q.paths.dead,
      inbox: q.paths.inbox,
      retryDir: q.paths.retry,
      key: name.slice(0, -5),
    }),
    (err: unknown) => isSaoeError(err, "io_error"),
  );
  assert.equal(await Deno.readTextFile(join(q.paths.inbox, "intake", name)), "newer");
  assert.equal((await listNames(q.paths.dead)).length, 2);
});

Deno.test("dropDead() deletes a record and refuses an unknown or malformed key", async () => {
  await using q = await makeQueueHome();
  const name = await refuseEntry(q, "schema");
  await dropDead({ deadDir: q.paths.dead, key: name.slice(0, -5) });
  assert.deepEqual(await listNames(q.paths.dead), []);
  await assert.rejects(
    dropDead({ deadDir: q.paths.dead, key: name.slice(0, -5) }),
    (err: unknown) => isSaoeError(err, "io_error"),
  );
  await assert.rejects(
    dropDead({ deadDir: q.paths.dead, key: "../../keys/secret" }),
    (err: unknown) => isSaoeError(err, "bad_identifier"),
  );
});
