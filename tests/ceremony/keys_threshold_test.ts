/**
 * k-of-n dispatcher rotation with the keys on several hosts: a pending root N+1
 * signed by fewer than k of root N's keys is refused (nothing written); each
 * holder adds a signature with `saoe keys sign-root`; `saoe keys status
 * --pending` shows who signed; with k signatures `--commit` installs it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isSaoeError } from "../../core/primitives/errors.ts";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { exportDispatcherSeed } from "../../core/services/ceremony/keys_seed_file.ts";
import {
  hasPendingSeeds,
  openDispatcherSubstore,
  replaceDispatcherSeeds,
} from "../../core/services/ceremony/keys_dispatcher_store.ts";
import { commitRoot, rotateDispatcher } from "../../core/services/ceremony/rotate_dispatcher.ts";
import { openCeremonyHome } from "../../core/services/ceremony/keys_home.ts";
import { trustFingerprint } from "../../core/services/supervisor/reload.ts";
import { homeLayout } from "../../core/domain/home/layout.ts";
import { REPO, runSaoe } from "../supervisor/_harness.ts";

const PASSPHRASE = "holder passphrase, long enough";

Deno.test("a pending root with fewer than k signatures of the old root is refused, with k it is installed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saoe-kofn-" });
  try {
    const home = join(dir, "home");
    await initHome({
      home,
      sources: join(REPO, "vault"),
      repo: REPO,
      clock: systemClock,
      threshold: 2,
      keys: 3,
    });
    // keys 2 and 3 leave this host: each holder keeps a passphrase-encrypted file
    const keys = await openKeyStore(join(home, "keys"));
    const seeds = await keys.loadDispatchers();
    const holders: string[] = [];
    for (const i of [1, 2]) {
      const file = join(dir, `holder${i + 1}.age`);
      await Deno.writeFile(
        file,
        await exportDispatcherSeed({ seed: seeds[i]!, passphrase: PASSPHRASE, workFactor: 10 }),
      );
      holders.push(file);
    }
    const passphraseFile = join(dir, "passphrase");
    await Deno.writeTextFile(passphraseFile, `${PASSPHRASE}\n`);
    await replaceDispatcherSeeds(keys, [seeds[0]!]);

    // one key here cannot rotate alone
    await assert.rejects(
      rotateDispatcher({ home, clock: systemClock, threshold: 2, keys: 3 }),
      (e: unknown) => isSaoeError(e, "bad_threshold"),
    );
    const pending = join(dir, "root-2.pending.json");
    const started = await rotateDispatcher({
      home,
      clock: systemClock,
      threshold: 2,
      keys: 3,
      pendingFile: pending,
    });
    assert.equal(started.state, "pending");
    assert.equal(started.status.current.signed, 1);
    assert.equal(started.status.current.met, false);
    assert.equal(started.status.next.signed, 3);
    assert.equal(started.status.next.met, true);
    assert.equal(started.status.ready, false);

    // fewer than k of root 1's keys: refused, and nothing is written
    const before = await trustFingerprint(homeLayout(home));
    await assert.rejects(
      commitRoot({ home, clock: systemClock, bytes: await Deno.readFile(pending) }),
      (e: unknown) => isSaoeError(e, "root_signature") && /Nothing was written/.test(String(e)),
    );
    const refused = await runSaoe([
      "keys",
      "rotate",
      "dispatcher",
      "--home",
      home,
      "--commit",
      pending,
    ]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(await trustFingerprint(homeLayout(home)), before);

    const shown = await runSaoe(["keys", "status", "--home", home, "--pending", pending, "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    const status = JSON.parse(shown.stdout).pending;
    assert.equal(status.ready, false);
    assert.deepEqual(status.current.keys.map((k: { signed: boolean }) => k.signed), [
      true,
      false,
      false,
    ]);

    // holder 2 signs from their file; signing twice is refused
    const signed = await runSaoe([
      "keys",
      "sign-root",
      pending,
      "--home",
      home,
      "--key",
      holders[0]!,
      "--passphrase-file",
      passphraseFile,
    ]);
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stdout, /Both thresholds are met/);
    const again = await runSaoe([
      "keys",
      "sign-root",
      pending,
      "--home",
      home,
      "--key",
      holders[0]!,
      "--passphrase-file",
      passphraseFile,
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already signed|root_signature/);
    const local = await runSaoe(["keys", "sign-root", pending, "--home", home, "--key", "1"]);
    assert.equal(local.code, 1, "the local key 1 signed when the root was created");

    const committed = await runSaoe([
      "keys",
      "rotate",
      "dispatcher",
      "--home",
      home,
      "--commit",
      pending,
      "--json",
    ]);
    assert.equal(committed.code, 0, committed.stderr);
    const result = JSON.parse(committed.stdout);
    assert.equal(result.state, "committed");
    assert.equal(result.recordedBy, "ledger");

    const ch = await openCeremonyHome({ home, clock: systemClock });
    assert.equal(ch.root.version, 2);
    assert.equal(ch.root.threshold, 2);
    assert.equal(ch.root.keys.length, 3);
    assert.equal(ch.directory.version, 2);
    // the three new seeds are the key store's now; the old one is retired
    assert.equal((await (await openKeyStore(join(home, "keys"))).loadDispatchers()).length, 3);
    const retired = await openDispatcherSubstore(join(home, "keys"), "retired", 1);
    assert.equal((await retired.loadDispatchers()).length, 1);
    assert.equal(await hasPendingSeeds(join(home, "keys"), 2), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
