import assert from "node:assert/strict";
import { join } from "node:path";
import { type RefusalIds, SaoeError } from "../../../core/primitives/errors.ts";
import {
  type PipelineOptions,
  processEntry,
  recoverQuarantine,
} from "../../../core/domain/queue/process.ts";
import type { QueuedEntry } from "../../../core/domain/queue/types.ts";
import {
  entryName,
  listNames,
  makeQueueHome,
  putEntry,
  type QueueHome,
  readSidecar,
} from "./_fixtures.ts";

interface Recorder {
  handled: string[];
  refused: SaoeError[];
  handlerErrors: unknown[];
  origins: string[];
}

function pipeline(
  q: QueueHome,
  rec: Recorder,
  overrides: Partial<PipelineOptions<string>> = {},
): PipelineOptions<string> {
  return {
    quarantineDir: q.paths.quarantine,
    deadDir: q.paths.dead,
    validate: async (entry: QueuedEntry) => {
      rec.origins.push(entry.origin.kind);
      const text = await Deno.readTextFile(entry.path);
      if (text.startsWith("bad")) {
        throw new SaoeError("schema", "Invalid payload: expected good text", { sender: "intake" });
      }
      return text;
    },
    handle: (text: string) => {
      if (text.startsWith("boom")) return Promise.reject(new Error("disk on fire"));
      rec.handled.push(text);
      return Promise.resolve();
    },
    onRefused: (err: SaoeError) => {
      rec.refused.push(err);
    },
    onHandlerError: (err: unknown, _ids: RefusalIds) => {
      rec.handlerErrors.push(err);
    },
    ...overrides,
  };
}

function recorder(): Recorder {
  return { handled: [], refused: [], handlerErrors: [], origins: [] };
}

function stem(name: string): string {
  return name.slice(0, -".satl".length);
}

Deno.test("processEntry() handles a valid entry and deletes it", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  const name = await putEntry(q, "intake", "hello");
  const outcome = await processEntry({
    ...pipeline(q, rec),
    path: join(q.paths.inbox, "intake", name),
    origin: { kind: "inbox", sender: "intake" },
  });
  assert.equal(outcome, "handled");
  assert.deepEqual(rec.handled, ["hello"]);
  assert.deepEqual(await listNames(join(q.paths.inbox, "intake")), []);
  assert.deepEqual(await listNames(q.paths.quarantine), []);
  assert.deepEqual(await listNames(q.paths.dead), []);
});

Deno.test("processEntry() moves a refused entry to dead/ with its reason code", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  const name = await putEntry(q, "intake", "bad payload");
  const outcome = await processEntry({
    ...pipeline(q, rec),
    path: join(q.paths.inbox, "intake", name),
    origin: { kind: "inbox", sender: "intake" },
  });
  assert.equal(outcome, "dead");
  assert.equal(rec.refused[0]?.code, "schema");
  assert.deepEqual(await listNames(q.paths.dead), [name, `${stem(name)}.reason.json`].sort());
  assert.equal(await Deno.readTextFile(join(q.paths.dead, name)), "bad payload");
  const reason = await readSidecar(q.paths.dead, stem(name));
  assert.equal(reason.code, "schema");
  assert.equal(reason.sender, "intake");
  assert.equal(reason.claimed, false);
  assert.equal(reason.kept, true);
  assert.deepEqual(reason.ids, { sender: "intake", file: name });
  assert.deepEqual(await listNames(q.paths.quarantine), []);
});

Deno.test("processEntry() moves an entry whose handler fails to dead/ as a claimed handler_error", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  const name = await putEntry(q, "intake", "boom");
  const outcome = await processEntry({
    ...pipeline(q, rec),
    path: join(q.paths.inbox, "intake", name),
    origin: { kind: "inbox", sender: "intake" },
  });
  assert.equal(outcome, "dead");
  assert.equal(rec.handlerErrors.length, 1);
  assert.equal(rec.refused.length, 0);
  const reason = await readSidecar(q.paths.dead, stem(name));
  assert.equal(reason.code, "handler_error");
  assert.equal(reason.claimed, true);
  assert.match(String(reason.message), /disk on fire/);
  assert.equal(await Deno.readTextFile(join(q.paths.dead, name)), "boom");
});

Deno.test("processEntry() treats a validator crash as an io_error refusal, not a pass", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  const name = await putEntry(q, "intake", "fine");
  const outcome = await processEntry({
    ...pipeline(q, rec, { validate: () => Promise.reject(new TypeError("validator bug")) }),
    path: join(q.paths.inbox, "intake", name),
    origin: { kind: "inbox", sender: "intake" },
  });
  assert.equal(outcome, "dead");
  assert.deepEqual(rec.handled, []);
  assert.equal(rec.refused[0]?.code, "io_error");
});

Deno.test("processEntry() unlinks a planted symlink without touching its target and records it", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  const secret = join(q.root, "keys", "secret");
  await Deno.mkdir(join(q.root, "keys"));
  await Deno.writeTextFile(secret, "top secret");
  const name = entryName();
  const link = join(q.paths.inbox, "intake", name);
  await Deno.symlink(secret, link);
  const outcome = await processEntry({
    ...pipeline(q, rec),
    path: link,
    origin: { kind: "inbox", sender: "intake" },
  });
  assert.equal(outcome, "dead");
  assert.equal(rec.refused[0]?.code, "unsafe_path");
  assert.deepEqual(rec.origins, [], "the validator must never see a symlink");
  assert.equal(await Deno.readTextFile(secret), "top secret");
  assert.deepEqual(await listNames(join(q.paths.inbox, "intake")), []);
  assert.deepEqual(await listNames(q.paths.dead), [`${stem(name)}.reason.json`]);
  const reason = await readSidecar(q.paths.dead, stem(name));
  assert.equal(reason.code, "unsafe_path");
  assert.equal(reason.kept, false);
});

Deno.test("processEntry() unlinks a planted hard link and leaves the other name intact", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  const store = join(q.paths.quarantine, "..", "store");
  await Deno.mkdir(store);
  const target = join(store, "replay.db");
  await Deno.writeTextFile(target, "state");
  const name = entryName();
  await Deno.link(target, join(q.paths.inbox, "intake", name));
  const outcome = await processEntry({
    ...pipeline(q, rec),
    path: join(q.paths.inbox, "intake", name),
    origin: { kind: "inbox", sender: "intake" },
  });
  assert.equal(outcome, "dead");
  assert.equal(rec.refused[0]?.code, "unsafe_path");
  assert.equal(await Deno.readTextFile(target), "state");
  assert.equal((await Deno.lstat(target)).nlink, 1);
  assert.equal((await readSidecar(q.paths.dead, stem(name))).kept, false);
});

Deno.test("processEntry() keeps a regular file with a bad name in dead/ under a fresh key", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  await Deno.writeTextFile(join(q.paths.inbox, "intake", "notes.txt"), "odd");
  const outcome = await processEntry({
    ...pipeline(q, rec),
    path: join(q.paths.inbox, "intake", "notes.txt"),
    origin: { kind: "inbox", sender: "intake" },
  });
  assert.equal(outcome, "dead");
  const names = await listNames(q.paths.dead);
  assert.equal(names.length, 2);
  const key = names.find((n) => n.endsWith(".satl"))!.slice(0, -5);
  assert.equal((await readSidecar(q.paths.dead, key)).file, "notes.txt");
});

Deno.test("processEntry() never overwrites an earlier dead entry of the same name", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  const name = entryName();
  for (const text of ["bad one", "bad two"]) {
    await Deno.writeTextFile(join(q.paths.inbox, "intake", name), text);
    await processEntry({
      ...pipeline(q, rec),
      path: join(q.paths.inbox, "intake", name),
      origin: { kind: "inbox", sender: "intake" },
    });
  }
  const names = await listNames(q.paths.dead);
  assert.equal(names.length, 4);
  const texts = await Promise.all(
    names.filter((n) => n.endsWith(".satl")).map((n) => Deno.readTextFile(join(q.paths.dead, n))),
  );
  assert.deepEqual(texts.sort(), ["bad one", "bad two"]);
});

Deno.test("processEntry() reports an entry that is already gone as gone", async () => {
  await using q = await makeQueueHome();
  const outcome = await processEntry({
    ...pipeline(q, recorder()),
    path: join(q.paths.inbox, "intake", entryName()),
    origin: { kind: "inbox", sender: "intake" },
  });
  assert.equal(outcome, "gone");
});

Deno.test("recoverQuarantine() re-processes entries a crash left in quarantine", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  const fresh = entryName();
  const claimed = entryName();
  await Deno.writeTextFile(join(q.paths.quarantine, `in.intake.${fresh}`), "fresh");
  await Deno.writeTextFile(join(q.paths.quarantine, `claimed.${claimed}`), "claimed");
  await Deno.writeTextFile(join(q.paths.quarantine, "stray"), "?");
  const report = await recoverQuarantine(pipeline(q, rec));
  assert.deepEqual(report, { handled: 2, dead: 1 });
  assert.deepEqual(rec.handled.sort(), ["claimed", "fresh"]);
  // claimed.* runs as a retry (its id was already claimed), in.* as a fresh inbox entry
  assert.deepEqual(rec.origins.sort(), ["inbox", "retry"]);
  assert.deepEqual(await listNames(q.paths.quarantine), []);
  assert.equal(rec.refused[0]?.code, "unsafe_path");
});

Deno.test("recoverQuarantine() records a replay refusal of a recovered entry as claimed", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  const name = entryName();
  await Deno.writeTextFile(join(q.paths.quarantine, `in.intake.${name}`), "x");
  const report = await recoverQuarantine(pipeline(q, rec, {
    validate: () =>
      Promise.reject(new SaoeError("replay", "Cannot accept envelope: already claimed")),
  }));
  assert.deepEqual(report, { handled: 0, dead: 1 });
  const reason = await readSidecar(q.paths.dead, stem(name));
  assert.equal(reason.code, "replay");
  assert.equal(reason.claimed, true);
  assert.equal(reason.sender, "intake");
});

Deno.test("processEntry() leaves an entry in quarantine when the process dies in the handler", async () => {
  await using q = await makeQueueHome();
  const name = await putEntry(q, "intake", "hello");
  // a handler that never returns stands in for a killed process
  const stuck = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const running = processEntry({
    ...pipeline(q, recorder(), {
      handle: () => {
        started.resolve();
        return stuck.promise;
      },
    }),
    path: join(q.paths.inbox, "intake", name),
    origin: { kind: "inbox", sender: "intake" },
  });
  await started.promise;
  assert.deepEqual(await listNames(q.paths.quarantine), [`claimed.${name}`]);
  stuck.resolve();
  assert.equal(await running, "handled");
});

Deno.test("recoverQuarantine() refuses a symlink found in quarantine without following it", async () => {
  await using q = await makeQueueHome();
  const rec = recorder();
  const secret = join(q.root, "secret");
  await Deno.writeTextFile(secret, "outside");
  // what a sender swapping its entry for a link between the check and the move leaves behind
  await Deno.symlink(secret, join(q.paths.quarantine, `in.intake.${entryName()}`));
  const report = await recoverQuarantine(pipeline(q, rec));
  assert.deepEqual(report, { handled: 0, dead: 1 });
  assert.deepEqual(rec.origins, []);
  assert.equal(rec.refused[0]?.code, "unsafe_path");
  assert.equal(await Deno.readTextFile(secret), "outside");
  assert.deepEqual(await listNames(q.paths.quarantine), []);
});
