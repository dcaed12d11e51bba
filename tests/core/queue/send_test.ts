import assert from "node:assert/strict";
import { join } from "node:path";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import { inboxDepth } from "../../../core/domain/queue/depth.ts";
import { sendEnvelope } from "../../../core/domain/queue/send.ts";
import { listNames, makeQueueHome } from "./_fixtures.ts";

Deno.test("sendEnvelope() writes <envelope_id>.satl into the sender's own inbox folder", async () => {
  await using q = await makeQueueHome();
  const envelopeId = crypto.randomUUID();
  const path = await sendEnvelope({
    home: q.home,
    sender: "intake",
    receiver: "planner",
    envelopeId,
    bytes: new TextEncoder().encode("signed"),
  });
  assert.equal(path, join(q.paths.inbox, "intake", `${envelopeId}.satl`));
  assert.deepEqual(await listNames(join(q.paths.inbox, "intake")), [`${envelopeId}.satl`]);
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(join(q.paths.inbox, "intake")))).map((e) => e.name),
    [`${envelopeId}.satl`],
    "no temp file is left behind",
  );
  assert.equal(await inboxDepth({ inbox: q.paths.inbox, senders: q.senders }), 1);
});

Deno.test("sendEnvelope() refuses an envelope id or agent id that could escape the inbox", async () => {
  await using q = await makeQueueHome();
  const bytes = new Uint8Array([1]);
  await assert.rejects(
    sendEnvelope({
      home: q.home,
      sender: "intake",
      receiver: "planner",
      envelopeId: "../../x",
      bytes,
    }),
    (err: unknown) => isSaoeError(err, "bad_identifier"),
  );
  await assert.rejects(
    sendEnvelope({
      home: q.home,
      sender: "..",
      receiver: "planner",
      envelopeId: crypto.randomUUID(),
      bytes,
    }),
    (err: unknown) => isSaoeError(err, "bad_identifier"),
  );
});

Deno.test("sendEnvelope() refuses a sender folder replaced by a symlink", async () => {
  await using q = await makeQueueHome();
  const elsewhere = join(q.root, "elsewhere");
  await Deno.mkdir(elsewhere);
  await Deno.remove(join(q.paths.inbox, "intake"));
  await Deno.symlink(elsewhere, join(q.paths.inbox, "intake"));
  await assert.rejects(
    sendEnvelope({
      home: q.home,
      sender: "intake",
      receiver: "planner",
      envelopeId: crypto.randomUUID(),
      bytes: new Uint8Array([1]),
    }),
    (err: unknown) => isSaoeError(err, "unsafe_path"),
  );
  assert.deepEqual(await listNames(elsewhere), []);
});
