/**
 * Two clients racing with different checkpoints from the same old size, into
 * one witness process and into two witness processes serving one state
 * directory: exactly one is cosigned, the other is told the new size (409),
 * and the state ends on the winner.
 */
import assert from "node:assert/strict";
import { parseCheckpoint } from "../../core/primitives/note/checkpoint.ts";
import {
  addCheckpoint,
  type AddCheckpointAnswer,
  latestCheckpoint,
} from "../../core/services/witness/client.ts";
import { TestLog } from "./_log.ts";
import { initState, spawnWitness } from "./_witness.ts";

const ROUNDS = 12;

Deno.test("two checkpoints racing from the same old size: exactly one is cosigned", async () => {
  const log = await TestLog.create("log.test/race");
  const state = await initState([[log.origin, log.vkey]]);
  const [w1, w2] = await Promise.all([spawnWitness(state.dir), spawnWitness(state.dir)]);
  try {
    log.append(4);
    const start = await addCheckpoint({
      url: w1.url,
      oldSize: 0,
      proof: [],
      note: await log.checkpoint(),
    });
    assert.equal(start.kind, "cosigned");
    let base = log;
    for (let round = 0; round < ROUNDS; round++) {
      const old = base.size;
      // two different extensions of the cosigned tree, both validly signed and proved
      const a = base.fork(old, `a${round}`).append(1 + (round % 3));
      const b = base.fork(old, `b${round}`).append(1 + ((round + 1) % 3));
      const [noteA, noteB] = await Promise.all([a.checkpoint(), b.checkpoint()]);
      // even rounds race inside one process, odd rounds across the two processes
      const urlB = round % 2 === 0 ? w1.url : w2.url;
      const answers: AddCheckpointAnswer[] = await Promise.all([
        addCheckpoint({ url: w1.url, oldSize: old, proof: a.proof(old), note: noteA }),
        addCheckpoint({ url: urlB, oldSize: old, proof: b.proof(old), note: noteB }),
      ]);
      const won = answers.map((x) => x.kind === "cosigned");
      assert.equal(
        won.filter(Boolean).length,
        1,
        `round ${round}: ${JSON.stringify(answers.map((x) => x.kind))}`,
      );
      const winner = won[0] ? a : b;
      const loser = answers[won[0] ? 1 : 0]!;
      assert.deepEqual(loser, { kind: "conflict", size: winner.size }, `round ${round}`);
      const stored = await latestCheckpoint({ url: w2.url, origin: log.origin });
      const cp = parseCheckpoint(stored!.text);
      assert.equal(cp.size, winner.size);
      assert.equal(cp.rootHash.toHex(), winner.root().toHex());
      base = winner;
    }
  } finally {
    await Promise.all([w1.stop(), w2.stop()]);
    await state.cleanup();
  }
});
