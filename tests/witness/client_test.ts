/**
 * The witness client's answers to what is not a well-behaved witness: nothing
 * listening, a server that never answers, an oversized or malformed answer;
 * and the decision logic's edge cases, without a server.
 */
import assert from "node:assert/strict";
import { isSaoeError } from "../../core/primitives/errors.ts";
import { decideCheckpoint } from "../../core/services/witness/add_checkpoint.ts";
import { addCheckpoint, latestCheckpoint } from "../../core/services/witness/client.ts";
import { TestLog } from "./_log.ts";

/** A loopback server answering `handler`; closed after `body`. */
async function withServer(
  handler: (request: Request) => Response | Promise<Response>,
  body: (url: string) => Promise<void>,
): Promise<void> {
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => ready.resolve(addr.port),
  }, handler);
  try {
    await body(`http://127.0.0.1:${await ready.promise}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("the client names an unreachable witness and one that does not answer in time", async () => {
  const log = await TestLog.create();
  log.append(1);
  const note = await log.checkpoint();
  // a port nothing listens on: bind one, then free it
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await assert.rejects(
    addCheckpoint({ url: `http://127.0.0.1:${port}`, oldSize: 0, proof: [], note }),
    (err: unknown) =>
      isSaoeError(err, "io_error") &&
      /Cannot reach the witness at .*witness serve/.test(err.message),
  );
  const hung = Promise.withResolvers<void>();
  await withServer(async () => {
    await hung.promise;
    return new Response("late");
  }, async (url) => {
    await assert.rejects(
      latestCheckpoint({ url, origin: log.origin, timeoutMs: 200 }),
      (err: unknown) =>
        isSaoeError(err, "io_error") && /did not answer within 200 ms/.test(err.message),
    );
    hung.resolve();
  });
});

Deno.test("the client reads answers with a cap and refuses malformed ones", async () => {
  const log = await TestLog.create();
  log.append(1);
  const note = await log.checkpoint();
  await withServer((request) => {
    const path = new URL(request.url).pathname;
    if (path === "/big/add-checkpoint") return new Response("x".repeat(100 * 1024));
    if (path === "/size/add-checkpoint") {
      return new Response("seven\n", {
        status: 409,
        headers: { "content-type": "text/x.tlog.size" },
      });
    }
    if (path === "/fork/add-checkpoint") return new Response("fork\n", { status: 409 });
    if (path === "/junk/add-checkpoint") return new Response("not a signature line\n");
    return new Response("nothing here\n", { status: 500 });
  }, async (url) => {
    await assert.rejects(
      addCheckpoint({ url: `${url}/big`, oldSize: 0, proof: [], note }),
      (err: unknown) => isSaoeError(err, "size_exceeded"),
    );
    const size = await addCheckpoint({ url: `${url}/size`, oldSize: 0, proof: [], note });
    assert.equal(size.kind === "refused" ? size.status : 0, 409);
    const fork = await addCheckpoint({ url: `${url}/fork`, oldSize: 0, proof: [], note });
    assert.deepEqual(fork, { kind: "refused", status: 409, message: "fork" });
    const junk = await addCheckpoint({ url: `${url}/junk`, oldSize: 0, proof: [], note });
    assert.equal(junk.kind, "refused");
    await assert.rejects(
      latestCheckpoint({ url, origin: log.origin }),
      (err: unknown) => isSaoeError(err, "io_error") && /HTTP 500/.test(err.message),
    );
  });
});

Deno.test("decideCheckpoint: the cases of tlog-witness in its order", async () => {
  const log = await TestLog.create();
  log.append(5);
  const at = (size: number) => ({ size, rootHash: log.root(size) });
  const stored = { size: 3, root: log.root(3) };
  // old must be the stored size, before anything else is looked at
  assert.deepEqual(decideCheckpoint(stored, { oldSize: 2, proof: [], checkpoint: at(5) }), {
    kind: "conflict",
    size: 3,
  });
  assert.deepEqual(
    decideCheckpoint(stored, { oldSize: 3, proof: log.proof(3, 5), checkpoint: at(5) }),
    { kind: "accept" },
  );
  assert.deepEqual(
    decideCheckpoint(stored, { oldSize: 3, proof: log.proof(2, 5), checkpoint: at(5) }),
    { kind: "inconsistent" },
  );
  // the same size: the same root is cosigned again, another is a fork, a proof is wrong
  assert.deepEqual(decideCheckpoint(stored, { oldSize: 3, proof: [], checkpoint: at(3) }), {
    kind: "accept",
  });
  assert.deepEqual(
    decideCheckpoint(stored, {
      oldSize: 3,
      proof: [],
      checkpoint: { size: 3, rootHash: log.root(2) },
    }),
    { kind: "fork", size: 3 },
  );
  assert.deepEqual(
    decideCheckpoint(stored, { oldSize: 3, proof: [log.root(1)], checkpoint: at(3) }),
    { kind: "inconsistent" },
  );
  // nothing cosigned yet: any tree extends the empty one
  assert.deepEqual(decideCheckpoint({ size: 0 }, { oldSize: 0, proof: [], checkpoint: at(5) }), {
    kind: "accept",
  });
  assert.deepEqual(decideCheckpoint({ size: 0 }, { oldSize: 0, proof: [], checkpoint: at(0) }), {
    kind: "accept",
  });
});
