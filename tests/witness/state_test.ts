/**
 * The witness's state directory through the CLI, as an operator meets it:
 * `init` (modes, refusals), `add-log` (a vkey must be an Ed25519 key named by
 * the origin), `key` and `status`, `serve` refusing a state that is missing,
 * uninitialised or not private, and the state surviving a restart.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateSeed, SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { encodeVkey, parseVkey } from "../../core/primitives/note/vkey.ts";
import { addCheckpoint, latestCheckpoint } from "../../core/services/witness/client.ts";
import { TestLog } from "./_log.ts";
import { initState, runCli, spawnWitness, tempState } from "./_witness.ts";

async function mode(path: string): Promise<number> {
  return ((await Deno.lstat(path)).mode ?? 0) & 0o777;
}

Deno.test("witness init makes a private state with a new key and refuses to overwrite one", async () => {
  const state = await tempState();
  try {
    const made = await runCli([
      "witness",
      "init",
      "--state",
      state.dir,
      "--name",
      "witness.local/alice",
      "--json",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const { vkey, name } = JSON.parse(made.stdout);
    assert.equal(name, "witness.local/alice");
    const parsed = parseVkey(vkey);
    assert.deepEqual([parsed.name, parsed.type], ["witness.local/alice", 0x04]);
    assert.equal(await mode(state.dir), 0o700);
    assert.equal(await mode(join(state.dir, "witness.key")), 0o600);
    assert.equal(await mode(join(state.dir, "witness.db")), 0o600);
    const key = await runCli(["witness", "key", "--state", state.dir]);
    assert.equal(key.stdout.trim(), vkey);

    const again = await runCli([
      "witness",
      "init",
      "--state",
      state.dir,
      "--name",
      "witness.local/b",
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds the witness witness\.local\/alice.*--force/);
    const forced = await runCli([
      "witness",
      "init",
      "--state",
      state.dir,
      "--name",
      "witness.local/b",
      "--force",
      "--json",
    ]);
    assert.equal(forced.code, 0, forced.stderr);
    const replaced = JSON.parse(forced.stdout);
    assert.equal(replaced.retired_vkey, vkey);
    assert.notEqual(replaced.vkey, vkey);
  } finally {
    await state.cleanup();
  }
});

Deno.test("witness init refuses a bad name, a non-empty folder and a folder inside a SAOE home", async () => {
  const state = await tempState();
  try {
    const bad = await runCli([
      "witness",
      "init",
      "--state",
      state.dir,
      "--name",
      "https://w.example",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /schema-less/);
    const missing = await runCli(["witness", "init", "--state", state.dir]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Missing --name/);

    await Deno.mkdir(state.dir);
    await Deno.writeTextFile(join(state.dir, "notes.txt"), "mine");
    const full = await runCli([
      "witness",
      "init",
      "--state",
      state.dir,
      "--name",
      "witness.local/a",
    ]);
    assert.equal(full.code, 1);
    assert.match(full.stderr, /not empty/);

    const home = join(state.tmp, "home");
    await Deno.mkdir(join(home, "keys"), { recursive: true });
    await Deno.mkdir(join(home, "trust"));
    await Deno.writeTextFile(join(home, "config.json"), "{}");
    const inside = await runCli([
      "witness",
      "init",
      "--state",
      join(home, "audit", "witness"),
      "--name",
      "witness.local/a",
    ]);
    assert.equal(inside.code, 1);
    assert.match(inside.stderr, /inside the SAOE home/);
  } finally {
    await state.cleanup();
  }
});

Deno.test("witness add-log takes only an Ed25519 vkey named by the origin, once", async () => {
  const state = await initState();
  try {
    const key = await SigningKey.fromSeed(generateSeed());
    const add = (origin: string, vkey: string) =>
      runCli(["witness", "add-log", "--state", state.dir, "--origin", origin, "--vkey", vkey]);
    const misnamed = await add("log.test/a", encodeVkey("log.test/b", 0x01, key.publicKey));
    assert.equal(misnamed.code, 1);
    assert.match(misnamed.stderr, /not the origin/);
    const cosigner = await add("log.test/a", encodeVkey("log.test/a", 0x04, key.publicKey));
    assert.equal(cosigner.code, 1);
    assert.match(cosigner.stderr, /type 0x04, expected 0x01/);
    const garbage = await add("log.test/a", "log.test/a+00000000+AQ==");
    assert.equal(garbage.code, 1);
    const ok = await add("log.test/a", encodeVkey("log.test/a", 0x01, key.publicKey));
    assert.equal(ok.code, 0, ok.stderr);
    const twice = await add("log.test/a", encodeVkey("log.test/a", 0x01, key.publicKey));
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already registered/);
    const status = await runCli(["witness", "status", "--state", state.dir]);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /log\.test\/a\s+0\s+-\s+never\s+0/);
  } finally {
    await state.cleanup();
  }
});

Deno.test("witness serve refuses a missing, uninitialised or not private state directory", async () => {
  const state = await initState();
  const empty = await tempState();
  try {
    const serve = (dir: string) =>
      runCli(["witness", "serve", "--state", dir, "--listen", "127.0.0.1:0"], 20_000);
    const missing = await serve(empty.dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not an initialised witness state.*never recreates/);
    await Deno.mkdir(empty.dir, { mode: 0o700 });
    const uninitialised = await serve(empty.dir);
    assert.equal(uninitialised.code, 1);
    assert.match(uninitialised.stderr, /witness\.db is missing/);
    const left: string[] = [];
    for await (const entry of Deno.readDir(empty.dir)) left.push(entry.name);
    assert.deepEqual(left, [], "serve created files in an empty dir");

    for (
      const [path, bad, pattern] of [
        [state.dir, 0o770, /other users can write it.*chmod 700/],
        [state.dir, 0o703, /other users can write it/],
        [join(state.dir, "witness.key"), 0o640, /key file.*other users can read it.*chmod 600/],
        [join(state.dir, "witness.key"), 0o622, /key file.*other users can write it/],
        [join(state.dir, "witness.db"), 0o666, /database.*other users can write it/],
      ] as const
    ) {
      const good = await mode(path);
      await Deno.chmod(path, bad);
      try {
        const refused = await serve(state.dir);
        assert.equal(refused.code, 1, `mode ${bad.toString(8)} of ${path} was accepted`);
        assert.match(refused.stderr, pattern);
      } finally {
        await Deno.chmod(path, good);
      }
    }
    await Deno.remove(join(state.dir, "witness.key"));
    const keyless = await serve(state.dir);
    assert.equal(keyless.code, 1);
    assert.match(keyless.stderr, /witness\.key is missing/);
  } finally {
    await state.cleanup();
    await empty.cleanup();
  }
});

Deno.test("the witness's state survives a restart; init --force waits for no running witness", async () => {
  const log = await TestLog.create("log.test/restart");
  const state = await initState([[log.origin, log.vkey]]);
  let witness = await spawnWitness(state.dir);
  try {
    log.append(6);
    const first = await addCheckpoint({
      url: witness.url,
      oldSize: 0,
      proof: [],
      note: await log.checkpoint(),
    });
    assert.equal(first.kind, "cosigned");
    const forced = await runCli([
      "witness",
      "init",
      "--state",
      state.dir,
      "--name",
      "witness.local/other",
      "--force",
    ]);
    assert.equal(forced.code, 1);
    assert.match(forced.stderr, /is using it/);
    const stopped = await witness.stop();
    assert.equal(stopped.code, 0);
    assert.match(witness.stderr(), /SIGTERM: stopping/);

    witness = await spawnWitness(state.dir);
    const stored = await latestCheckpoint({ url: witness.url, origin: log.origin });
    assert.equal(stored?.text, log.checkpointText(6));
    log.append(2);
    const stale = await addCheckpoint({
      url: witness.url,
      oldSize: 0,
      proof: [],
      note: await log.checkpoint(),
    });
    assert.deepEqual(stale, { kind: "conflict", size: 6 });
    const next = await addCheckpoint({
      url: witness.url,
      oldSize: 6,
      proof: log.proof(6),
      note: await log.checkpoint(),
    });
    assert.equal(next.kind, "cosigned");
    const status = JSON.parse(
      (await runCli(["witness", "status", "--state", state.dir, "--json"])).stdout,
    );
    assert.equal(status.logs[0].size, 8);
    assert.match(status.logs[0].cosigned_at, /^\d{4}-\d\d-\d\dT/);
  } finally {
    await witness.stop();
    await state.cleanup();
  }
});
