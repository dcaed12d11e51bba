import assert from "node:assert/strict";
import { readReply, readWorkerMessage } from "../../../core/domain/toolgate/protocol.ts";

Deno.test("readWorkerMessage() accepts the ready notice and passes replies to readReply()", () => {
  assert.deepEqual(readWorkerMessage({ kind: "ready" }), { kind: "ready" });
  const reply = {
    ok: true,
    id: 3,
    output: { bytes: new Uint8Array([1]), media_type: "text/plain" },
  };
  assert.deepEqual(readWorkerMessage(reply), readReply(reply));
  assert.deepEqual(readWorkerMessage({ ok: false, id: 2, error: "x" }), {
    ok: false,
    id: 2,
    error: "x",
  });
});

Deno.test("readWorkerMessage() refuses an unknown kind, a ready notice with extra fields and junk", () => {
  assert.throws(() => readWorkerMessage({ kind: "output" }), TypeError);
  assert.throws(() => readWorkerMessage({ kind: "ready", output: {} }), TypeError);
  assert.throws(() => readWorkerMessage("ready"), TypeError);
  assert.throws(() => readWorkerMessage(null), TypeError);
  assert.throws(
    () => readWorkerMessage({ ok: true, id: 1, output: { bytes: "x", media_type: "text/plain" } }),
    TypeError,
  );
});

Deno.test("readReply() refuses a reply without a positive integer call id", () => {
  const output = { bytes: new Uint8Array([1]), media_type: "text/plain" };
  for (const id of [undefined, 0, -1, 1.5, "1"]) {
    assert.throws(() => readReply({ ok: true, id, output }), TypeError, `accepted id ${id}`);
    assert.throws(() => readReply({ ok: false, id, error: "x" }), TypeError, `accepted id ${id}`);
  }
});
