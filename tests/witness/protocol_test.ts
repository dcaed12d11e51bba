/**
 * `POST /add-checkpoint` and `GET /checkpoint` of a real `saoe witness serve`
 * process, over real HTTP, with checkpoints of a real in-test log: every answer
 * c2sp.org/tlog-witness prescribes (200 with a cosignature that verifies with
 * the witness's vkey, 400, 403, 404, 409 with and without the size, 422), the
 * body cap, the method and path checks, and the headers every answer carries.
 */
import assert from "node:assert/strict";
import { toBase64 } from "../../core/primitives/crypto/bytes.ts";
import { generateSeed, SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { verifyConsistency } from "../../core/primitives/merkle/proof.ts";
import { parseCheckpoint } from "../../core/primitives/note/checkpoint.ts";
import { cosignatureTimestamp } from "../../core/primitives/note/cosignature.ts";
import {
  formatNote,
  parseNote,
  signNoteEd25519,
  verifyNote,
} from "../../core/primitives/note/note.ts";
import { vkeyVerifier } from "../../core/primitives/note/vkey.ts";
import { addCheckpoint, latestCheckpoint } from "../../core/services/witness/client.ts";
import { TestLog } from "./_log.ts";
import { initState, postRaw, runCli, spawnWitness } from "./_witness.ts";

/** The body of an add-checkpoint request. */
function body(old: number, proof: readonly Uint8Array[], note: string): string {
  return [`old ${old}`, ...proof.map((h) => toBase64(h)), "", note].join("\n");
}

function assertHeaders(headers: Headers, what: string): void {
  assert.ok(headers.get("content-type"), `${what}: no Content-Type`);
  assert.equal(headers.get("cache-control"), "no-store", `${what}: cacheable`);
}

Deno.test("a witness cosigns consistent checkpoints and refuses everything else as tlog-witness says", async (t) => {
  const log = await TestLog.create("log.test/protocol");
  const other = await TestLog.create("log.test/other-origin");
  const state = await initState([[log.origin, log.vkey]], "witness.local/protocol");
  const witness = await spawnWitness(state.dir);
  const cosigner = vkeyVerifier(witness.vkey);
  const url = witness.url;
  try {
    assert.equal(witness.vkey, state.vkey);
    assert.match(url, /^http:\/\/127\.0\.0\.1:[1-9][0-9]*$/);

    await t.step("the first checkpoint (old 0) is cosigned; the cosignature verifies", async () => {
      log.append(5);
      const note = await log.checkpoint();
      const before = Math.floor(Date.now() / 1000);
      const answer = await addCheckpoint({ url, oldSize: 0, proof: [], note });
      assert.equal(answer.kind, "cosigned", JSON.stringify(answer));
      if (answer.kind !== "cosigned") return;
      assert.equal(answer.signatures.length, 1);
      const text = log.checkpointText();
      assert.deepEqual(await verifyNote({ text, signatures: answer.signatures }, [cosigner]), [
        witness.name,
      ]);
      const time = cosignatureTimestamp(answer.signatures[0]!);
      assert.ok(time >= before - 1 && time <= Math.ceil(Date.now() / 1000) + 1, `time ${time}`);
      // the raw answer: one "— name base64" line, text/plain, not cacheable
      const raw = await postRaw(url, body(5, [], note));
      assert.equal(raw.status, 200);
      assert.match(raw.text, /^— witness\.local\/protocol [A-Za-z0-9+/]+=*\n$/);
      assert.match(raw.type ?? "", /^text\/plain/);
      assertHeaders(raw.headers, "200");
    });

    await t.step("an extending checkpoint with a valid proof is cosigned", async () => {
      log.append(4);
      const answer = await addCheckpoint({
        url,
        oldSize: 5,
        proof: log.proof(5),
        note: await log.checkpoint(),
      });
      assert.equal(answer.kind, "cosigned", JSON.stringify(answer));
    });

    await t.step(
      "GET /checkpoint answers the latest cosigned checkpoint as a full signed note",
      async () => {
        const note = await latestCheckpoint({ url, origin: log.origin });
        assert.ok(note !== undefined);
        assert.equal(note.text, log.checkpointText(9));
        const verified = await verifyNote(note, [cosigner, vkeyVerifier(log.vkey)]);
        assert.deepEqual(verified.sort(), [log.origin, witness.name].sort());
        assert.equal(await latestCheckpoint({ url, origin: other.origin }), undefined);
        const missing = await fetch(`${url}/checkpoint`);
        assert.equal(missing.status, 400);
        assertHeaders(missing.headers, "GET 400");
        await missing.body?.cancel();
      },
    );

    await t.step(
      "a smaller tree is a 409 naming the cosigned size as text/x.tlog.size",
      async () => {
        const raw = await postRaw(url, body(5, log.proof(5, 7), await log.checkpoint(7)));
        assert.equal(raw.status, 409);
        assert.equal(raw.type, "text/x.tlog.size");
        assert.equal(raw.text, "9\n");
        assertHeaders(raw.headers, "409");
        const answer = await addCheckpoint({
          url,
          oldSize: 5,
          proof: log.proof(5, 7),
          note: await log.checkpoint(7),
        });
        assert.deepEqual(answer, { kind: "conflict", size: 9 });
      },
    );

    await t.step("a proof from the wrong old size is a 409 with the size", async () => {
      log.append(3);
      const answer = await addCheckpoint({
        url,
        oldSize: 5,
        proof: log.proof(5),
        note: await log.checkpoint(),
      });
      assert.deepEqual(answer, { kind: "conflict", size: 9 });
    });

    await t.step(
      "a fork at the cosigned size is a 409 (not a size) and is kept as evidence",
      async () => {
        const fork = log.fork(7, "fork-same-size").append(2);
        assert.equal(fork.size, 9);
        const raw = await postRaw(url, body(9, [], await fork.checkpoint()));
        assert.equal(raw.status, 409);
        assert.match(raw.type ?? "", /^text\/plain/);
        assert.match(raw.text, /another root hash/);
        const status = await runCli(["witness", "status", "--state", state.dir, "--json"]);
        const logs = JSON.parse(status.stdout).logs;
        assert.equal(logs[0].forks, 1);
        assert.equal(logs[0].size, 9);
      },
    );

    await t.step("a fork at a larger size is a 422: its proof does not verify", async () => {
      const fork = log.fork(7, "fork-larger").append(5);
      const answer = await addCheckpoint({
        url,
        oldSize: 9,
        proof: fork.proof(9),
        note: await fork.checkpoint(),
      });
      assert.equal(answer.kind, "refused");
      assert.equal(answer.kind === "refused" ? answer.status : 0, 422);
      // a garbage proof of the right length is refused the same way
      const raw = await postRaw(
        url,
        body(9, log.proof(9).map(() => new Uint8Array(32)), await log.checkpoint()),
      );
      assert.equal(raw.status, 422);
    });

    await t.step("an unknown origin is a 404", async () => {
      other.append(2);
      const answer = await addCheckpoint({
        url,
        oldSize: 0,
        proof: [],
        note: await other.checkpoint(),
      });
      assert.equal(answer.kind === "refused" ? answer.status : 0, 404);
    });

    await t.step(
      "a checkpoint no trusted key signed is a 403; unknown extra signatures are ignored",
      async () => {
        const stranger = await SigningKey.fromSeed(generateSeed());
        const forged = await log.checkpoint(log.size, { key: stranger });
        const answer = await addCheckpoint({ url, oldSize: 9, proof: log.proof(9), note: forged });
        assert.equal(answer.kind === "refused" ? answer.status : 0, 403);
        // a bad signature under the log's own name and key ID rejects the whole note
        const good = parseNote(await log.checkpoint());
        const broken = { ...good.signatures[0]!, bytes: new Uint8Array(64) };
        const text = log.checkpointText();
        const tampered = formatNote({ text, signatures: [broken, good.signatures[0]!] });
        assert.equal((await postRaw(url, body(9, log.proof(9), tampered))).status, 403);
        // a signature by an unknown key next to the log's is ignored: cosigned
        const extra = await signNoteEd25519(text, { name: "someone.else/key", key: stranger });
        const ok = await addCheckpoint({
          url,
          oldSize: 9,
          proof: log.proof(9),
          note: await log.checkpoint(log.size, { extra: [extra] }),
        });
        assert.equal(ok.kind, "cosigned", JSON.stringify(ok));
        // and the stored note keeps only the log's verified signature and the cosignature
        const stored = await latestCheckpoint({ url, origin: log.origin });
        assert.deepEqual(stored?.signatures.map((s) => s.name), [log.origin, witness.name]);
      },
    );

    await t.step(
      "the same checkpoint again is cosigned again; a proof with it is a 422",
      async () => {
        const note = await log.checkpoint();
        const again = await addCheckpoint({ url, oldSize: 12, proof: [], note });
        assert.equal(again.kind, "cosigned");
        const raw = await postRaw(url, body(12, [new Uint8Array(32)], note));
        assert.equal(raw.status, 422);
      },
    );

    await t.step("malformed bodies are 400s", async () => {
      const note = await log.checkpoint();
      const proof = log.proof(9);
      const cases: [string, BodyInit][] = [
        ["empty body", ""],
        ["no old line", `\n${note}`],
        ["old with a leading zero", body(9, proof, note).replace("old 9", "old 09")],
        ["negative old", body(9, proof, note).replace("old 9", "old -9")],
        ["old not a number", body(9, proof, note).replace("old 9", "old nine")],
        ["old above the checkpoint size", body(13, [], note)],
        ["a proof from old 0", body(0, [new Uint8Array(32)], note)],
        [
          "a proof line that is not base64",
          body(9, proof, note).replace(toBase64(proof[0]!), "not base64!"),
        ],
        ["a proof line of 31 bytes", body(9, [new Uint8Array(31)], note)],
        ["64 proof lines", body(9, Array.from({ length: 64 }, () => new Uint8Array(32)), note)],
        ["no empty line before the checkpoint", `old 9\n${toBase64(proof[0]!)}\n`],
        ["a checkpoint without signatures", body(9, proof, log.checkpointText())],
        ["a note that is not a checkpoint", body(9, proof, `hello\n\n${note.split("\n\n")[1]}`)],
        ["a checkpoint with a bad size line", body(9, proof, note.replace("\n12\n", "\n12x\n"))],
        ["a control character", body(9, proof, note.replace(log.origin, `${log.origin}\u0007`))],
        ["not UTF-8", new Uint8Array([0x6f, 0x6c, 0x64, 0x20, 0x30, 0x0a, 0x0a, 0xff, 0x0a])],
      ];
      for (const [what, sent] of cases) {
        const raw = await postRaw(url, sent);
        assert.equal(raw.status, 400, `${what}: ${raw.status} ${raw.text}`);
        assertHeaders(raw.headers, what);
      }
    });

    await t.step("a body over 64 KiB is refused unread (413), declared or streamed", async () => {
      const big = body(9, [], (await log.checkpoint()) + "x".repeat(70 * 1024));
      const raw = await postRaw(url, big);
      assert.equal(raw.status, 413);
      assertHeaders(raw.headers, "413");
      const chunk = new TextEncoder().encode("x".repeat(8192));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 20) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const streamed = await postRaw(url, stream);
      assert.equal(streamed.status, 413);
    });

    await t.step(
      "only POST on /add-checkpoint, only GET on /checkpoint, 404 elsewhere",
      async () => {
        const get = await fetch(`${url}/add-checkpoint`);
        assert.equal(get.status, 405);
        assert.equal(get.headers.get("allow"), "POST");
        assertHeaders(get.headers, "405");
        await get.body?.cancel();
        const put = await fetch(`${url}/checkpoint?origin=x`, { method: "POST", body: "x" });
        assert.equal(put.status, 405);
        await put.body?.cancel();
        const nowhere = await fetch(`${url}/nowhere`);
        assert.equal(nowhere.status, 404);
        assertHeaders(nowhere.headers, "404");
        await nowhere.body?.cancel();
      },
    );

    await t.step("every cosigned checkpoint is consistent with the one before", async () => {
      const latest = await latestCheckpoint({ url, origin: log.origin });
      const cp = parseCheckpoint(latest!.text);
      assert.equal(cp.size, 12);
      assert.ok(verifyConsistency({
        oldSize: 9,
        newSize: 12,
        oldRoot: log.root(9),
        newRoot: cp.rootHash,
        proof: log.proof(9, 12),
      }));
    });

    await t.step("the witness logged one line per decision on stderr", () => {
      const lines = witness.stderr().split("\n").filter((l) => l.startsWith("witness: "));
      for (
        const want of [
          "200 cosigned",
          "409 conflict",
          "409 fork",
          "422 inconsistent",
          "404 unknown origin",
          "403 bad signature",
          "400 refused",
          "413 refused",
        ]
      ) {
        assert.ok(
          lines.some((l) => l.includes(want)),
          `no "${want}" line in:\n${lines.join("\n")}`,
        );
      }
    });
  } finally {
    const status = await witness.stop();
    assert.equal(status.code, 0, witness.stderr());
    await state.cleanup();
  }
});
