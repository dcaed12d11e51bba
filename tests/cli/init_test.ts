/**
 * `saoe init` as a user runs it: a complete home, its report, the refusal of an
 * existing home, `--force`, and the usage errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { homeLayout } from "../../core/domain/home/layout.ts";
import { readHomeConfig } from "../../core/domain/home/config.ts";
import { operatorTokenPath } from "../../core/domain/keys/operator_token.ts";
import { holdWriterLock, runCli } from "./_fixtures.ts";

async function tempRoot(): Promise<string> {
  return await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-init-" }));
}

Deno.test("saoe init creates a home and prints its pin, the credential file and the next command", async () => {
  const tmp = await tempRoot();
  const root = join(tmp, "home");
  try {
    const r = await runCli(["init", "--home", root]);
    assert.equal(r.code, 0, r.stderr);
    const config = await readHomeConfig(homeLayout(root).config);
    assert.match(r.stdout, /Creating keys for 7 agents/);
    assert.ok(r.stdout.includes(`Home:                ${root}`));
    assert.ok(r.stdout.includes(config.root_pin));
    const credential = operatorTokenPath(homeLayout(root).keys, "operator");
    assert.ok(r.stdout.includes(credential));
    assert.equal((await Deno.stat(credential)).mode! & 0o077, 0);
    assert.ok(r.stdout.includes(`deno task saoe pipeline --home ${root}`));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("saoe init refuses an existing home unless --force, which resets it", async () => {
  const tmp = await tempRoot();
  const root = join(tmp, "home");
  try {
    const first = await runCli(["init", "--home", root, "--json"]);
    const pin = JSON.parse(first.stdout).root_pin;
    const again = await runCli(["init", "--home", root]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already there/);
    assert.match(again.stderr, /--force .* deletes its keys, ledger and queues/);
    assert.equal((await readHomeConfig(homeLayout(root).config)).root_pin, pin);

    await Deno.mkdir(join(root, "audit"), { recursive: true });
    await Deno.writeTextFile(join(root, "audit", "ledger.db-wal"), "stale");
    const forced = await runCli([
      "init",
      "--home",
      root,
      "--force",
      "--threshold",
      "2",
      "--keys",
      "3",
      "--json",
    ]);
    assert.equal(forced.code, 0, forced.stderr);
    const report = JSON.parse(forced.stdout);
    assert.notEqual(report.root_pin, pin);
    await assert.rejects(Deno.lstat(join(root, "audit", "ledger.db-wal")), Deno.errors.NotFound);
    assert.equal((await Array.fromAsync(Deno.readDir(join(root, "keys", "dispatcher")))).length, 3);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("saoe init --force refuses while a pipeline holds the home's ledger", async () => {
  const tmp = await tempRoot();
  const root = join(tmp, "home");
  try {
    assert.equal((await runCli(["init", "--home", root])).code, 0);
    const lock = await holdWriterLock(homeLayout(root));
    try {
      const r = await runCli(["init", "--home", root, "--force"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /a pipeline is running on it/);
      await Deno.lstat(join(root, "config.json"));
    } finally {
      lock.release();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("saoe init reports bad thresholds and stray arguments as usage errors", async () => {
  const tmp = await tempRoot();
  try {
    for (
      const args of [
        ["--threshold", "0"],
        ["--threshold", "3", "--keys", "2"],
        ["--keys", "x"],
        ["--threshold", "33"],
        ["extra"],
      ]
    ) {
      const r = await runCli(["init", "--home", join(tmp, "home"), ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /saoe init --help/);
    }
    await assert.rejects(Deno.lstat(join(tmp, "home")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
