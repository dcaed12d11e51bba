import assert from "node:assert/strict";
import { readReply, readWorkerMessage } from "../../../core/toolgate/protocol.ts";

Deno.test("readWorkerMessage() accepts the ready notice and passes replies to readReply()", () => {
  assert.deepEqual(readWorkerMessage({ kind: "ready" }), { kind: "ready" });
  const reply = { ok: true, output: { bytes: new Uint8Array([1]), media_type: "text/plain" } };
  assert.deepEqual(readWorkerMessage(reply), readReply(reply));
  assert.deepEqual(readWorkerMessage({ ok: false, error: "x" }), { ok: false, error: "x" });
});

Deno.test("readWorkerMessage() refuses an unknown kind, a ready notice with extra fields and junk", () => {
  assert.throws(() => readWorkerMessage({ kind: "output" }), TypeError);
  assert.throws(() => readWorkerMessage({ kind: "ready", output: {} }), TypeError);
  assert.throws(() => readWorkerMessage("ready"), TypeError);
  assert.throws(() => readWorkerMessage(null), TypeError);
  assert.throws(
    () => readWorkerMessage({ ok: true, output: { bytes: "x", media_type: "text/plain" } }),
    TypeError,
  );
});
