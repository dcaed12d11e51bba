/**
 * Key ceremonies on a home whose dispatcher keys live off the host (`saoe init
 * --offline-dispatcher`): the keys are brought with --dispatcher-key, a
 * rotation exports the new keys with --export and leaves none on the host, and
 * without the keys every ceremony that signs is refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runSaoe } from "../supervisor/_harness.ts";
import { openCeremonyHome } from "../../core/services/ceremony/keys_home.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";

Deno.test("an offline-dispatcher home rotates with the brought keys and keeps the new ones off the host", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saoe-offline-keys-" });
  try {
    const home = join(dir, "home");
    const first = join(dir, "dispatcher-v1.age");
    const second = join(dir, "dispatcher-v2.age");
    const passphrase = join(dir, "passphrase");
    await Deno.writeTextFile(passphrase, "a long offline passphrase\n");
    const init = await runSaoe([
      "init",
      "--home",
      home,
      "--offline-dispatcher",
      "--export",
      first,
      "--passphrase-file",
      passphrase,
    ]);
    assert.equal(init.code, 0, init.stderr);

    const without = await runSaoe(["keys", "rotate", "planner", "--home", home]);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /--dispatcher-key FILE \(bad_threshold\)/);

    const rotated = await runSaoe([
      "keys",
      "rotate",
      "dispatcher",
      "--home",
      home,
      "--dispatcher-key",
      first,
      "--passphrase-file",
      passphrase,
      "--export",
      second,
      "--json",
    ]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(JSON.parse(rotated.stdout).version, 2);
    const local = await Array.fromAsync(Deno.readDir(join(home, "keys", "dispatcher")));
    assert.deepEqual(local.filter((e) => e.isFile), [], "no dispatcher seed on the host");
    assert.equal((await openCeremonyHome({ home, clock: systemClock })).root.version, 2);

    // the old file no longer signs; the new one does
    const stale = await runSaoe([
      "keys",
      "renew",
      "capsets",
      "--home",
      home,
      "--dispatcher-key",
      first,
      "--passphrase-file",
      passphrase,
    ]);
    assert.equal(stale.code, 1);
    const renewed = await runSaoe([
      "keys",
      "renew",
      "capsets",
      "--home",
      home,
      "--dispatcher-key",
      second,
      "--passphrase-file",
      passphrase,
    ]);
    assert.equal(renewed.code, 0, renewed.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
