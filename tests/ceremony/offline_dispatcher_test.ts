import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex, toBase64, toHex } from "../../core/primitives/crypto/bytes.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES } from "../../core/primitives/dsse/types.ts";
import { verifyStatement } from "../../core/primitives/dsse/verify.ts";
import { readDispatcherExport } from "../../core/services/ceremony/dispatcher_export.ts";
import { readHomeConfig, writeHomeConfig } from "../../core/domain/home/config.ts";
import { inboxFromDir, ledgerPath } from "../../core/domain/home/layout.ts";
import { type AuditEvent, decodeEvent } from "../../core/domain/ledger/events.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { startSupervisor } from "../../core/services/supervisor/supervisor.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { createEnvelope, signEnvelope } from "../../core/domain/validate/envelope.ts";
import { templateManifestPath } from "../../core/domain/vault/layout.ts";
import { decodeTemplateManifest } from "../../core/domain/vault/template_types.ts";
import { verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import {
  editedTemplate,
  filesContaining,
  makeHome,
  PASSPHRASE,
  REPO,
  runInTerminal,
  runSaoe,
  treeDigest,
  writeSource,
} from "./_fixtures.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

Deno.test("initHome() with offlineDispatcher exports the root's keys encrypted and keeps none in the home", async () => {
  await using t = await makeHome({ offline: true, threshold: 2, keys: 3 });
  assert.deepEqual(await Array.fromAsync(Deno.readDir(join(t.home.keys, "dispatcher"))), []);
  assert.deepEqual(await t.keys.loadDispatchers(), []);
  const exportPath = join(t.src, "dispatcher.age");
  assert.equal((await Deno.stat(exportPath)).mode! & 0o777, 0o600);

  const seeds = await readDispatcherExport({ path: exportPath, passphrase: PASSPHRASE });
  const { root } = await verifyHomeTrust({ home: t.home, config: t.config, clock: systemClock });
  const exported = await Promise.all(seeds.map((s) => SigningKey.fromSeed(s)));
  assert.deepEqual(
    exported.map((k) => toHex(k.publicKey)).sort(),
    root.keys.map((k) => toHex(k.publicKey)).sort(),
  );
  assert.equal(root.threshold, 2);
  for (const seed of seeds) {
    assert.deepEqual(await filesContaining(t.root, toBase64(seed)), []);
  }
  await assert.rejects(
    () => readDispatcherExport({ path: exportPath, passphrase: "not the passphrase" }),
    (err: unknown) => (err as { code?: string }).code === "bad_credential",
  );
});

async function ledgerEvents(path: string): Promise<AuditEvent[]> {
  const exists = await Deno.lstat(path).then(() => true, () => false);
  if (!exists) return [];
  const ledger = await openLedger({ path, readOnly: true });
  try {
    return ledger.read({ afterSeq: 0, limit: 10_000 }).map((r) => decodeEvent(r.bytes));
  } finally {
    ledger.close();
  }
}

Deno.test({
  name:
    "a pipeline runs on an offline-dispatcher home with public material only: an envelope is validated and forwarded",
  ...processTest,
  async fn() {
    await using t = await makeHome({ offline: true });
    // the exported keys leave the host: nothing the pipeline runs can reach them
    await Deno.remove(join(t.src, "dispatcher.age"));
    const config = await readHomeConfig(t.home.config);
    await writeHomeConfig(t.home.config, { ...config, agents: ["sanitization"] });
    const supervisor = await startSupervisor({
      home: t.root,
      repo: REPO,
      stopTimeoutMs: 5_000,
      log: () => {},
    });
    try {
      const started = await supervisor.ready;
      assert.equal(started.find((a) => a.name === "sanitization")?.state, "up");
      const templateBytes = await Deno.readFile(
        join(REPO, "vault", "templates", "blog_article_intent.json"),
      );
      const intake = await SigningKey.fromSeed((await t.keys.loadAgent("intake")).seed);
      const fields = createEnvelope({
        sender: "intake",
        receiver: "sanitization",
        template: { id: "blog_article_intent", version: 1, sha256: await sha256Hex(templateBytes) },
        payload: { title: "Offline", markdown: "# Heading\n\nBody.", image_count: 0 },
        human_readable: "offline dispatcher test",
      });
      const folder = inboxFromDir(t.home, "sanitization", "intake");
      const temp = join(folder, `.tmp-${crypto.randomUUID()}`);
      await Deno.writeFile(temp, await signEnvelope({ fields, signer: intake }));
      await Deno.rename(temp, join(folder, `${fields.envelope_id}.satl`));

      const deadline = Date.now() + 15_000;
      let events: AuditEvent[] = [];
      while (Date.now() < deadline) {
        events = await ledgerEvents(ledgerPath(t.home));
        if (events.some((e) => e.type === "forwarded" && e.session_id === fields.session_id)) break;
        // paces the ledger reads; the loop ends on the forwarded event or the deadline
        await new Promise((r) => setTimeout(r, 100));
      }
      const mine = events.filter((e) => e.session_id === fields.session_id);
      assert.ok(
        mine.some((e) => e.type === "validated" && e.agent === "sanitization"),
        "validated",
      );
      assert.ok(
        mine.some((e) => e.type === "forwarded" && e.agent === "sanitization"),
        "forwarded",
      );
      assert.ok(!mine.some((e) => e.type === "rejected"), "nothing rejected");
    } finally {
      await supervisor.stop();
    }
  },
});

Deno.test({
  name:
    "saoe publish on an offline-dispatcher home needs --dispatcher-key and its passphrase, then signs with a 2-of-3 threshold",
  ...processTest,
  async fn() {
    await using t = await makeHome({ offline: true, threshold: 2, keys: 3 });
    const file = await writeSource(t, "t.json", await editedTemplate(2));
    const hash = await sha256Hex(await Deno.readFile(file));
    const keyFile = join(t.src, "dispatcher.age");
    const good = await writeSource(t, "pass", `${PASSPHRASE}\n`);
    const bad = await writeSource(t, "bad", "not the passphrase\n");
    const before = await treeDigest(t.home.vault);
    const base = ["publish", file, "--home", t.root, "--confirm-sha256", hash];

    const missing = await runSaoe(base);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not on this host/);
    assert.match(missing.stderr, /--dispatcher-key FILE/);
    assert.match(missing.stderr, /passphrase/);
    const noTerminal = await runSaoe([...base, "--dispatcher-key", keyFile]);
    assert.equal(noTerminal.code, 1);
    assert.match(noTerminal.stderr, /--passphrase-file/);
    const wrong = await runSaoe([...base, "--dispatcher-key", keyFile, "--passphrase-file", bad]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /\(bad_credential\)/);
    const stray = await runSaoe([...base, "--passphrase-file", good]);
    assert.equal(stray.code, 2);
    assert.equal(await treeDigest(t.home.vault), before);

    const ok = await runSaoe([...base, "--dispatcher-key", keyFile, "--passphrase-file", good]);
    assert.equal(ok.code, 0, ok.stderr);
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
    assert.equal(manifest.signers.size, 3);
    assert.deepEqual(await t.keys.loadDispatchers(), [], "the seeds were not stored on the host");
  },
});

Deno.test({
  name:
    "saoe init --offline-dispatcher --export writes the key file outside the home and none inside",
  ...processTest,
  async fn() {
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-offline-init-" }));
    try {
      const home = join(dir, "home");
      const pass = join(dir, "pass");
      await Deno.writeTextFile(pass, `${PASSPHRASE}\n`);
      const usage = await runSaoe(["init", "--home", home, "--offline-dispatcher"]);
      assert.equal(usage.code, 2);
      const inside = await runSaoe([
        "init",
        "--home",
        home,
        "--offline-dispatcher",
        "--export",
        join(home, "d.age"),
        "--passphrase-file",
        pass,
      ]);
      assert.equal(inside.code, 1);
      assert.match(inside.stderr, /\(unsafe_path\)/);
      assert.equal(await Deno.lstat(home).then(() => true, () => false), false, "nothing created");

      const exportPath = join(dir, "dispatcher.age");
      const out = await runSaoe([
        "init",
        "--home",
        home,
        "--offline-dispatcher",
        "--export",
        exportPath,
        "--passphrase-file",
        pass,
        "--json",
      ]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(JSON.parse(out.stdout).dispatcher_key_file, exportPath);
      assert.deepEqual(await Array.fromAsync(Deno.readDir(join(home, "keys", "dispatcher"))), []);
      assert.equal((await Deno.stat(exportPath)).mode! & 0o777, 0o600);
      const seeds = await readDispatcherExport({ path: exportPath, passphrase: PASSPHRASE });
      assert.equal(seeds.length, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "saoe init and publish at a terminal: the passphrase is typed twice (a mismatch creates nothing), then asked once to publish",
  ...processTest,
  async fn() {
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-offline-tty-" }));
    try {
      const home = join(dir, "home");
      const exportPath = join(dir, "dispatcher.age");
      const init = ["init", "--home", home, "--offline-dispatcher", "--export", exportPath];
      const mismatch = await runInTerminal(init, [
        { after: "Passphrase for", send: `${PASSPHRASE}\r` },
        { after: "Repeat the passphrase", send: "something else entirely\r" },
      ]);
      assert.equal(mismatch.code, 1, mismatch.screen);
      assert.match(mismatch.screen, /the two entries differ/);
      assert.ok(!mismatch.screen.includes(PASSPHRASE), "the passphrase is not echoed");
      assert.equal(await Deno.lstat(home).then(() => true, () => false), false);

      const created = await runInTerminal(init, [
        { after: "Passphrase for", send: `${PASSPHRASE}\r` },
        { after: "Repeat the passphrase", send: `${PASSPHRASE}\r` },
      ]);
      assert.equal(created.code, 0, created.screen);
      assert.ok(!created.screen.includes(PASSPHRASE), "the passphrase is not echoed");

      const file = join(dir, "t.json");
      await Deno.writeTextFile(file, await editedTemplate(2));
      const hash = await sha256Hex(await Deno.readFile(file));
      const published = await runInTerminal(
        ["publish", file, "--home", home, "--dispatcher-key", exportPath],
        [
          { after: "Passphrase for the dispatcher key file", send: `${PASSPHRASE}\r` },
          { after: "Type the sha256 above to publish", send: `${hash}\n` },
        ],
      );
      assert.equal(published.code, 0, published.screen);
      assert.match(published.screen, /Published the template blog_article_intent version 2/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
