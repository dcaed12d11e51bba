/**
 * `saoe publish --code` on a real home, run as a user runs it: a home whose
 * signed code manifest pins other bytes for an agent's entry (what a home made
 * by an earlier checkout has after the code changed) is re-pinned only after
 * the shown sha256 is given, audited as `publish_code`, and then has nothing
 * left to publish.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { operatorActions } from "../_support/operator_actions.ts";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import {
  MAX_CODE_MANIFEST_BYTES,
  signCodeManifest,
  verifyCodeManifest,
} from "../../core/domain/code/manifest.ts";
import { readTrustFile } from "../../core/domain/trust/files.ts";
import { verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import { codeManifestPath } from "../../core/domain/vault/layout.ts";
import { makeHome, REPO, runCli, type TestHome } from "./_fixtures.ts";

const OLD_DIGEST = "0".repeat(63) + "2";
const FILE = "agents/planner.ts";

/** Re-signs the home's code manifest as an older checkout would have: another digest for one file. */
async function pinOldBytes(t: TestHome): Promise<void> {
  const path = codeManifestPath(t.home.vault);
  const { root } = await verifyHomeTrust({ home: t.home, config: t.config, clock: systemClock });
  const current = await verifyCodeManifest(await readTrustFile(path, MAX_CODE_MANIFEST_BYTES), {
    dispatcher: root.trusted,
    clock: systemClock,
    skewMs: t.config.skew_ms,
  });
  const seeds = await (await openKeyStore(t.home.keys)).loadDispatchers();
  const signers = await Promise.all(seeds.map((seed) => SigningKey.fromSeed(seed)));
  const files = current.files.map((f) => f.path === FILE ? { ...f, sha256: OLD_DIGEST } : f);
  await Deno.writeFile(
    path,
    await signCodeManifest({
      version: current.version,
      contents: { files, agents: current.agents },
      signers,
      issuedAt: Date.now(),
      validForMs: 86_400_000,
    }),
  );
}

Deno.test("saoe publish --code re-pins a changed agent file only after its sha256 is given", async () => {
  const t = await makeHome();
  try {
    await pinOldBytes(t);
    const path = codeManifestPath(t.home.vault);
    const before = await Deno.readFile(path);
    const wrong = await runCli([
      "publish",
      "--code",
      "--home",
      t.root,
      "--confirm-sha256",
      "f".repeat(64),
    ]);
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
    assert.match(wrong.stderr, /content_hash_mismatch/);
    assert.deepEqual(await Deno.readFile(path), before, "a wrong hash wrote nothing");
    // what the operator reads before typing: the file, the old and new digest, the one to type
    const real = await sha256Hex(await Deno.readFile(join(REPO, FILE)));
    assert.ok(wrong.stdout.includes(`${FILE}: ${OLD_DIGEST} -> ${real}`), wrong.stdout);
    const shown = /^sha256:\s+([0-9a-f]{64})/m.exec(wrong.stdout)?.[1];
    assert.ok(shown !== undefined, wrong.stdout);

    const ok = await runCli([
      "publish",
      "--code",
      "--home",
      t.root,
      "--json",
      "--confirm-sha256",
      shown,
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const result = JSON.parse(ok.stdout);
    assert.equal(result.version, 2);
    assert.deepEqual(
      result.changes.map((c: { path: string; from: string; to: string }) => [c.path, c.from, c.to]),
      [[FILE, OLD_DIGEST, real]],
    );
    const action = (await operatorActions(t.home)).at(-1)!.detail!;
    assert.equal(action.action, "publish_code");
    assert.equal(action.sha256, shown);
    assert.equal(action.changed_files, 1);

    const again = await runCli(["publish", "--code", "--home", t.root, "--confirm-sha256", shown]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /Nothing to publish: code manifest v2 already pins/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe publish --code refuses a FILE, --tools beside it, and an unconfirmed run without a terminal", async () => {
  const t = await makeHome();
  try {
    const file = await runCli(["publish", "--code", "x.json", "--home", t.root]);
    assert.equal(file.code, 2, file.stderr);
    assert.match(file.stderr, /--code takes no FILE/);
    const both = await runCli(["publish", "--code", "--tools", "--home", t.root]);
    assert.equal(both.code, 2, both.stderr);
    const unconfirmed = await runCli(["publish", "--code", "--home", t.root]);
    assert.equal(unconfirmed.code, 1);
    assert.match(unconfirmed.stderr, /not_confirmed/);
  } finally {
    await t.cleanup();
  }
});
