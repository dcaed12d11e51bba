import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { PAYLOAD_TYPES } from "../../core/primitives/dsse/types.ts";
import { verifyStatement } from "../../core/primitives/dsse/verify.ts";
import { decryptWith } from "../../core/domain/vault/age.ts";
import {
  capsetPath,
  templateCipherPath,
  templateManifestPath,
} from "../../core/domain/vault/layout.ts";
import { decodeTemplateManifest } from "../../core/domain/vault/template_types.ts";
import { verifyCapset } from "../../core/domain/capset/verify.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { parseTimestamp } from "../../core/primitives/time/timestamp.ts";
import { verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import { operatorActions } from "../_support/operator_actions.ts";
import {
  editedTemplate,
  filesContaining,
  makeHome,
  repoSource,
  runSaoe,
  treeDigest,
  writeSource,
} from "./_fixtures.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

async function sha256OfFile(path: string): Promise<string> {
  return await sha256Hex(await Deno.readFile(path));
}

Deno.test({
  name: "saoe publish refuses a piped stdin without --confirm-sha256 before showing the hash",
  ...processTest,
  async fn() {
    await using t = await makeHome();
    const file = await writeSource(t, "t.json", await editedTemplate(2));
    const hash = await sha256OfFile(file);
    const before = await treeDigest(t.home.vault);
    // piping the right hash in does not help: a script must pass it explicitly
    const out = await runSaoe(["publish", file, "--home", t.root], `${hash}\n`);
    assert.equal(out.code, 1, out.stderr);
    assert.match(out.stderr, /not a terminal/);
    assert.match(out.stderr, /--confirm-sha256/);
    assert.ok(!out.stdout.includes(hash) && !out.stderr.includes(hash), "the hash is not shown");
    assert.equal(await treeDigest(t.home.vault), before);
  },
});

Deno.test({
  name:
    "saoe publish refuses a wrong --confirm-sha256 and leaves the vault byte-for-byte unchanged",
  ...processTest,
  async fn() {
    await using t = await makeHome();
    const file = await writeSource(t, "t.json", await editedTemplate(2));
    const before = await treeDigest(t.home.vault);
    const out = await runSaoe([
      "publish",
      file,
      "--home",
      t.root,
      "--confirm-sha256",
      "ab".repeat(32),
    ]);
    assert.equal(out.code, 1, out.stderr);
    assert.match(out.stderr, /\(content_hash_mismatch\)/);
    assert.equal(await treeDigest(t.home.vault), before);
    const malformed = await runSaoe(["publish", file, "--home", t.root, "--confirm-sha256", "abc"]);
    assert.equal(malformed.code, 2, malformed.stderr);
    assert.equal(await treeDigest(t.home.vault), before);
  },
});

Deno.test({
  name:
    "saoe publish with the right --confirm-sha256 publishes template version 2 with a verifying manifest, encrypted to its readers only",
  ...processTest,
  async fn() {
    await using t = await makeHome();
    const text = await editedTemplate(2);
    const file = await writeSource(t, "t.json", text);
    const hash = await sha256OfFile(file);
    const out = await runSaoe(["publish", file, "--home", t.root, "--confirm-sha256", hash]);
    assert.equal(out.code, 0, out.stderr);
    // the diff names the changed line on both sides
    assert.match(out.stdout, /^ {2}- {8}"maxLength": 200$/m);
    assert.match(out.stdout, /^ {2}\+ {8}"maxLength": 321$/m);
    assert.match(out.stdout, /^ {2}@@ -\d+(,\d+)? \+\d+(,\d+)? @@$/m);
    assert.ok(out.stdout.includes(hash));

    const { root } = await verifyHomeTrust({ home: t.home, config: t.config, clock: systemClock });
    const manifest = await verifyStatement(
      await Deno.readFile(templateManifestPath(t.home.vault, "blog_article_intent", 2)),
      {
        payloadType: PAYLOAD_TYPES.templateManifest,
        trusted: [root.trusted],
        signatureCode: "dispatcher_signature",
        what: "manifest",
        decode: decodeTemplateManifest,
        clock: systemClock,
        skewMs: t.config.skew_ms,
        maxBytes: 16 * 1024,
      },
    );
    assert.equal(manifest.payload.version, 2);
    assert.equal(manifest.payload.sha256, hash);

    const cipher = await Deno.readFile(templateCipherPath(t.home.vault, "blog_article_intent", 2));
    const planner = await t.keys.loadAgent("planner");
    assert.equal(new TextDecoder().decode(await decryptWith(planner.ageIdentity, cipher)), text);
    const deployment = await t.keys.loadAgent("deployment");
    await assert.rejects(
      () => decryptWith(deployment.ageIdentity, cipher),
      (err: unknown) => (err as { code?: string }).code === "vault_access",
    );
    const supervisor = await t.keys.loadAgent("supervisor");
    await assert.rejects(() => decryptWith(supervisor.ageIdentity, cipher));

    // plaintext never lands in the vault (nor anywhere in the home)
    assert.deepEqual(await filesContaining(t.root, '"maxLength": 321'), []);
    const line = (await operatorActions(t.home)).at(-1)!.detail!;
    assert.equal(line.action, "publish");
    assert.equal(line.version, 2);
    assert.equal(line.previous_version, 1);
    assert.equal(line.sha256, hash);
    assert.equal(line.confirmed_by, "flag");
    assert.match(out.stdout, /Pickup: .*(SIGHUP|next `saoe pipeline` start)/);
  },
});

Deno.test({
  name: "saoe publish refuses an equal or lower version as a rollback with the vault unchanged",
  ...processTest,
  async fn() {
    await using t = await makeHome();
    const v3 = await writeSource(t, "v3.json", await editedTemplate(3));
    const published = await runSaoe([
      "publish",
      v3,
      "--home",
      t.root,
      "--confirm-sha256",
      await sha256OfFile(v3),
    ]);
    assert.equal(published.code, 0, published.stderr);
    const before = await treeDigest(t.home.vault);
    for (const version of [3, 2, 1]) {
      const file = await writeSource(t, `v${version}b.json`, await editedTemplate(version, 400));
      const out = await runSaoe([
        "publish",
        file,
        "--home",
        t.root,
        "--confirm-sha256",
        await sha256OfFile(file),
      ]);
      assert.equal(out.code, 1, `version ${version}: ${out.stderr}`);
      assert.match(out.stderr, /\(rollback\)/);
      assert.match(out.stderr, /version 3 is already published/);
    }
    assert.equal(await treeDigest(t.home.vault), before);
  },
});

Deno.test({
  name:
    "saoe publish re-signs a capability set with a fresh window that verifies, readable by its agent, peers and the supervisor only",
  ...processTest,
  async fn() {
    await using t = await makeHome();
    const source = JSON.parse(await repoSource("capsets", "planner"));
    source.version = 2;
    source.limits.quota_per_minute = 777;
    const file = await writeSource(t, "planner.json", `${JSON.stringify(source, null, 2)}\n`);
    const started = Date.now();
    const out = await runSaoe([
      "publish",
      file,
      "--home",
      t.root,
      "--confirm-sha256",
      await sha256OfFile(file),
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^ {2}- {4}"quota_per_minute": 12000,$/m);
    assert.match(out.stdout, /^ {2}\+ {4}"quota_per_minute": 777,$/m);

    const cipher = await Deno.readFile(capsetPath(t.home.vault, "planner"));
    const { root } = await verifyHomeTrust({ home: t.home, config: t.config, clock: systemClock });
    const supervisor = await t.keys.loadAgent("supervisor");
    const capset = await verifyCapset(await decryptWith(supervisor.ageIdentity, cipher), {
      dispatcher: root.trusted,
      clock: systemClock,
      skewMs: t.config.skew_ms,
      expectedAgent: "planner",
    });
    assert.equal(capset.version, 2);
    assert.equal(capset.limits.quota_per_minute, 777);
    const issued = parseTimestamp(capset.issued_at)!;
    assert.ok(issued >= started - 1000, "signed now, not the old window");
    assert.equal(
      parseTimestamp(capset.expires_at)! - issued,
      t.config.validity.capset_days * 86_400_000,
    );
    for (const peer of ["planner", "sanitization", "text_formatter", "image_filter"]) {
      await decryptWith((await t.keys.loadAgent(peer)).ageIdentity, cipher);
    }
    await assert.rejects(() =>
      t.keys.loadAgent("deployment").then((d) => decryptWith(d.ageIdentity, cipher))
    );

    // the same version again is a rollback
    const again = await runSaoe([
      "publish",
      file,
      "--home",
      t.root,
      "--confirm-sha256",
      await sha256OfFile(file),
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /\(rollback\)/);
  },
});

Deno.test({
  name: "saoe publish refuses a file that is neither a template nor a capability set source",
  ...processTest,
  async fn() {
    await using t = await makeHome();
    const before = await treeDigest(t.home.vault);
    const file = await writeSource(t, "odd.json", '{"name":"x","version":2}\n');
    const out = await runSaoe([
      "publish",
      file,
      "--home",
      t.root,
      "--confirm-sha256",
      await sha256OfFile(file),
    ]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /expected a template source .* or a capability set source/);
    const inVault = join(t.home.vault, "t.json");
    await Deno.writeTextFile(inVault, await editedTemplate(2));
    const planted = await runSaoe([
      "publish",
      inVault,
      "--home",
      t.root,
      "--confirm-sha256",
      "a".repeat(64),
    ]);
    assert.equal(planted.code, 1);
    assert.match(planted.stderr, /\(unsafe_path\)/);
    await Deno.remove(inVault);
    assert.equal(await treeDigest(t.home.vault), before);
  },
});
