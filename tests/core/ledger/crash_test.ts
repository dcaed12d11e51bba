import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { decodeEvent } from "../../../core/domain/ledger/events.ts";
import { eventBytes, ledgerDir, openWriter, startTestWitness, verify } from "./_fixtures.ts";

const WRITER = fileURLToPath(new URL("./_crash_writer.ts", import.meta.url));
const BATCH = 500;

Deno.test("a writer killed with SIGKILL mid-batch leaves a ledger that verifies with every committed batch", async () => {
  const d = await ledgerDir();
  const seed = generateSeed();
  const key = await SigningKey.fromSeed(seed);
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-read",
        "--allow-write",
        WRITER,
        d.path,
        seed.toHex(),
        String(BATCH),
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let lastCommitted = 0;
    let buffered = "";
    const decoder = new TextDecoder();
    const reader = child.stdout.getReader();
    // let it commit a good number of batches (and a few checkpoints), then kill it
    while (lastCommitted < 30 * BATCH) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) lastCommitted = Number(line.replace("committed ", ""));
    }
    child.kill("SIGKILL");
    const status = await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    const stderr = await new Response(child.stderr).text();
    assert.equal(status.signal, "SIGKILL", stderr);
    assert.ok(lastCommitted >= 30 * BATCH, stderr);

    const result = await verify(d, key);
    assert.equal(result.ok, true, result.message);
    // every batch reported committed is there, and no batch is there in part
    assert.ok(result.size >= lastCommitted, `${result.size} < ${lastCommitted}`);
    assert.equal(result.size % BATCH, 0);
    assert.ok(result.checkpoints >= 2);

    // the kernel dropped the dead writer's lock: a new writer opens and continues the chain,
    // and a witness cosigns the tree it checkpoints (the stored tree survived the kill)
    await using witness = await startTestWitness(d, key);
    const ledger = await openWriter(d, key);
    for (const record of ledger.read({ afterSeq: result.size - 3, limit: 3 })) {
      decodeEvent(record.bytes);
    }
    ledger.append([eventBytes(1)]);
    const written = await ledger.checkpoint();
    assert.equal(await witness.submit(ledger, written), true, witness.logs.join("\n"));
    ledger.close();
    const after = await verify(d, key, witness);
    assert.equal(after.ok, true, after.message);
    assert.equal(after.size, result.size + 1);
    assert.equal(after.witnessedSize, result.size + 1);
  } finally {
    await d.cleanup();
  }
});
