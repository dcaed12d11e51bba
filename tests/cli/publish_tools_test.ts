/**
 * `saoe publish --tools` on a real home, run as a user runs it: a home whose
 * signed tool manifest pins other bytes for a tool (what a home made by an
 * earlier checkout has after the tool changed) is flagged by `capset check`,
 * re-pinned only after the shown sha256 is given, and then passes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { operatorActions } from "../_support/operator_actions.ts";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import {
  MAX_TOOL_MANIFEST_BYTES,
  signToolManifest,
  verifyToolManifest,
} from "../../core/domain/toolgate/manifest.ts";
import { readTrustFile } from "../../core/domain/trust/files.ts";
import { verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import { toolManifestPath } from "../../core/domain/vault/layout.ts";
import { makeHome, REPO, runCli, type TestHome } from "./_fixtures.ts";

const OLD_DIGEST = "0".repeat(63) + "1";

/** Re-signs the home's tool manifest as an older checkout would have: another digest for markdown_to_html. */
async function pinOldBytes(t: TestHome): Promise<void> {
  const path = toolManifestPath(t.home.vault);
  const { root } = await verifyHomeTrust({ home: t.home, config: t.config, clock: systemClock });
  const current = await verifyToolManifest(await readTrustFile(path, MAX_TOOL_MANIFEST_BYTES), {
    dispatcher: root.trusted,
    clock: systemClock,
    skewMs: t.config.skew_ms,
  });
  const seeds = await (await openKeyStore(t.home.keys)).loadDispatchers();
  const signers = await Promise.all(seeds.map((seed) => SigningKey.fromSeed(seed)));
  const tools = current.tools.map((tool) =>
    tool.name === "markdown_to_html" ? { ...tool, sha256: OLD_DIGEST } : tool
  );
  const bytes = await signToolManifest({
    version: current.version,
    tools,
    signers,
    issuedAt: Date.now(),
    validForMs: 86_400_000,
  });
  await Deno.writeFile(path, bytes);
}

Deno.test("saoe publish --tools re-pins a changed tool module only after its sha256 is given", async () => {
  const t = await makeHome();
  try {
    await pinOldBytes(t);
    const flagged = await runCli(["capset", "check", "--home", t.root]);
    assert.equal(flagged.code, 1, flagged.stdout);
    assert.match(flagged.stdout + flagged.stderr, /tool_hash_mismatch: Tool markdown_to_html/);

    const path = toolManifestPath(t.home.vault);
    const before = await Deno.readFile(path);
    const wrong = await runCli([
      "publish",
      "--tools",
      "--home",
      t.root,
      "--confirm-sha256",
      "f".repeat(64),
    ]);
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
    assert.match(wrong.stderr, /content_hash_mismatch/);
    assert.deepEqual(await Deno.readFile(path), before, "a wrong hash wrote nothing");
    // what the operator reads before typing: the old and new digest, and the one to type
    const real = await sha256Hex(
      await Deno.readFile(join(REPO, "core/domain/toolgate/tools/markdown_to_html.ts")),
    );
    assert.ok(
      wrong.stdout.includes(
        `markdown_to_html (core/domain/toolgate/tools/markdown_to_html.ts): ${OLD_DIGEST} -> ${real}`,
      ),
    );
    const shown = /^sha256:\s+([0-9a-f]{64})/m.exec(wrong.stdout)?.[1];
    assert.ok(shown !== undefined, wrong.stdout);

    const ok = await runCli([
      "publish",
      "--tools",
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
      result.changes.map((c: { name: string; from: string; to: string }) => [c.name, c.from, c.to]),
      [["markdown_to_html", OLD_DIGEST, real]],
    );
    const action = (await operatorActions(t.home)).at(-1)!.detail!;
    assert.equal(action.action, "publish_tools");
    assert.equal(action.sha256, shown);
    assert.equal(result.recorded_by, "ledger");

    const passes = await runCli(["capset", "check", "--home", t.root]);
    assert.equal(passes.code, 0, passes.stdout + passes.stderr);
    const again = await runCli(["publish", "--tools", "--home", t.root, "--confirm-sha256", shown]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Nothing to publish: tool manifest v2 already pins/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("saoe publish --tools refuses a FILE and an unconfirmed run without a terminal", async () => {
  const t = await makeHome();
  try {
    const both = await runCli(["publish", "--tools", "x.json", "--home", t.root]);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /--tools takes no FILE/);
    const unconfirmed = await runCli(["publish", "--tools", "--home", t.root]);
    assert.equal(unconfirmed.code, 1);
    assert.match(unconfirmed.stderr, /not_confirmed/);
  } finally {
    await t.cleanup();
  }
});
