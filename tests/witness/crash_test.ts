/**
 * A witness killed with SIGKILL at random moments while a log (and a fork of
 * it, signed with the same key) streams cosign requests at it, restarted each
 * time on the same state directory: no two checkpoints it answered 200 for are
 * inconsistent (every pair is checked with a consistency proof), no 200 ever
 * names a smaller size than an earlier one, and after every restart the state
 * it reports covers every checkpoint it answered 200 for (a 200 is durable).
 */
import assert from "node:assert/strict";
import { verifyConsistency } from "../../core/primitives/merkle/proof.ts";
import { parseCheckpoint } from "../../core/primitives/note/checkpoint.ts";
import { verifyNote } from "../../core/primitives/note/note.ts";
import { vkeyVerifier } from "../../core/primitives/note/vkey.ts";
import { addCheckpoint, latestCheckpoint } from "../../core/services/witness/client.ts";
import { TestLog } from "./_log.ts";
import { initState, spawnWitness, type WitnessProcess } from "./_witness.ts";

/** A 200 answer: what was cosigned, and on which branch. */
interface Cosigned {
  size: number;
  root: Uint8Array;
  branch: TestLog;
  /** Which request stream got it. */
  stream: number;
}

const KILLS = 6;
/** Concurrent request streams (each sequential, so its own 200s are ordered). */
const STREAMS = 3;

Deno.test("kill -9 at random moments never makes the witness cosign inconsistent checkpoints", async () => {
  const honest = await TestLog.create("log.test/crash");
  honest.append(3);
  // a fork signed by the same key, diverging after 2 leaves: a log showing two views
  const branches = [honest, honest.fork(2, "fork")];
  const state = await initState([[honest.origin, honest.vkey]]);
  let current: Promise<WitnessProcess> = spawnWitness(state.dir);
  const first = await current;
  const cosigner = vkeyVerifier(first.vkey);
  const answered: Cosigned[] = [];
  let errors = 0;
  let done = false;

  const stream = async (id: number) => {
    let believed = 0;
    while (!done) {
      const branch = branches[Math.random() < 0.75 ? 0 : 1]!;
      // always a larger tree than the witness is believed to hold, along this branch
      branch.append(Math.max(0, believed - branch.size) + 1 + Math.floor(Math.random() * 3));
      const size = branch.size;
      let witness: WitnessProcess;
      try {
        witness = await current;
      } catch {
        return;
      }
      // old size as the client believes it; a proof from there along this branch
      const old = Math.min(believed, size);
      const note = await branch.checkpoint(size);
      let answer;
      try {
        answer = await addCheckpoint({
          url: witness.url,
          oldSize: old,
          proof: old === 0 ? [] : branch.proof(old, size),
          note,
          timeoutMs: 2_000,
        });
      } catch {
        errors++; // killed mid-request: the outcome is unknown, and need not be
        continue;
      }
      if (answer.kind === "conflict") {
        believed = answer.size;
        continue;
      }
      if (answer.kind !== "cosigned") continue;
      assert.deepEqual(
        await verifyNote({ text: branch.checkpointText(size), signatures: answer.signatures }, [
          cosigner,
        ]),
        [first.name],
      );
      answered.push({ size, root: branch.root(size), branch, stream: id });
      believed = size;
    }
  };

  const killer = async () => {
    for (let i = 0; i < KILLS; i++) {
      await new Promise((r) => setTimeout(r, 40 + Math.random() * 250));
      const witness = await current;
      const before = answered.length;
      current = (async () => {
        await witness.kill();
        return await spawnWitness(state.dir);
      })();
      const restarted = await current;
      // every 200 sent before the kill is in the state the restarted witness reports
      const largest = answered.slice(0, before).reduce((m, a) => Math.max(m, a.size), 0);
      const stored = await latestCheckpoint({ url: restarted.url, origin: honest.origin });
      const storedSize = stored === undefined ? 0 : parseCheckpoint(stored.text).size;
      assert.ok(
        storedSize >= largest,
        `after kill ${i + 1} the witness is at ${storedSize}, below the ${largest} it cosigned`,
      );
    }
    done = true;
  };

  try {
    await Promise.all([...Array.from({ length: STREAMS }, (_, i) => stream(i)), killer()]);
  } finally {
    done = true;
    await (await current.catch(() => undefined))?.stop();
    await state.cleanup();
  }

  assert.ok(answered.length >= 5, `only ${answered.length} cosignatures in the run`);
  for (let id = 0; id < STREAMS; id++) {
    const mine = answered.filter((a) => a.stream === id);
    for (let i = 1; i < mine.length; i++) {
      assert.ok(
        mine[i]!.size >= mine[i - 1]!.size,
        `stream ${id}: a 200 for size ${mine[i]!.size} came after one for ${mine[i - 1]!.size}`,
      );
    }
  }
  // every pair, smaller first, must be consistent: the witness never cosigned two views
  const bySize = [...answered].sort((a, b) => a.size - b.size);
  for (let i = 0; i < bySize.length; i++) {
    for (let j = i + 1; j < bySize.length; j++) {
      const a = bySize[i]!;
      const b = bySize[j]!;
      const consistent = a.size === b.size ? a.root.toHex() === b.root.toHex() : verifyConsistency({
        oldSize: a.size,
        newSize: b.size,
        oldRoot: a.root,
        newRoot: b.root,
        proof: b.branch.proof(a.size, b.size),
      });
      assert.ok(
        consistent,
        `cosigned ${a.branch.branch}@${a.size} and ${b.branch.branch}@${b.size} are inconsistent`,
      );
    }
  }
  console.log(`${answered.length} cosigned, ${errors} requests cut by ${KILLS} kills`);
});
