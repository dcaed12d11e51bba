/**
 * `saoe dev envelope` and `saoe dev inject`: envelopes crafted with the home's
 * own keys verify as their signer, deliberately bad ones are bad in exactly the
 * way asked (tampered after signing, signed by another agent or a seed file,
 * expired, a bad field signed), and an injected file lands atomically in the
 * sender's folder of the receiver's inbox, where a live pipeline refuses it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fromBase64, toHex } from "../../core/primitives/crypto/bytes.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES } from "../../core/primitives/dsse/types.ts";
import { parseDsse } from "../../core/primitives/dsse/parse.ts";
import { verifySignatures } from "../../core/primitives/dsse/verify.ts";
import { inboxFromDir } from "../../core/domain/home/layout.ts";
import { templateRefFromVault } from "../../core/devtools/dev/template_ref.ts";
import {
  makeTestHome,
  startTestSupervisor,
  type TestHome,
  waitForEvent,
} from "../supervisor/_harness.ts";
import { runSaoe } from "./_tree.ts";

const ARTICLE = '{"title":"Hello","markdown":"# Hi","image_count":0}';

function craftArgs(t: TestHome, ...extra: string[]): string[] {
  return [
    "dev",
    "envelope",
    "--home",
    t.root,
    "--from",
    "intake",
    "--to",
    "sanitization",
    "--template",
    "blog_article_intent",
    "--payload",
    ARTICLE,
    ...extra,
  ];
}

async function signedBy(bytes: Uint8Array, key: SigningKey): Promise<boolean> {
  try {
    await verifySignatures(parseDsse(bytes, 1 << 20), {
      trusted: [{ name: "k", keys: [key], threshold: 1 }],
      signatureCode: "bad_signature",
      what: "envelope",
    });
    return true;
  } catch (err: unknown) {
    if ((err as { code?: string }).code === "bad_signature") return false;
    throw err;
  }
}

function payloadOf(bytes: Uint8Array): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(parseDsse(bytes, 1 << 20).payload));
}

async function keyOf(t: TestHome, agent: string): Promise<SigningKey> {
  return await SigningKey.fromSeed((await t.keys.loadAgent(agent)).seed);
}

Deno.test("saoe dev envelope signs with the sender's own key and the vault's template reference", async () => {
  await using t = await makeTestHome();
  const run = await runSaoe(craftArgs(t));
  assert.equal(run.code, 0, run.stderr);
  const bytes = new TextEncoder().encode(run.stdout.trim());
  assert.equal(parseDsse(bytes, 1 << 20).payloadType, PAYLOAD_TYPES.envelope);
  assert.ok(await signedBy(bytes, await keyOf(t, "intake")));
  const fields = payloadOf(bytes);
  assert.equal(fields.sender, "intake");
  assert.equal(fields.receiver, "sanitization");
  assert.deepEqual(
    fields.template,
    await templateRefFromVault(t.home.vault, "blog_article_intent"),
  );
  assert.deepEqual(fields.payload, JSON.parse(ARTICLE));
});

Deno.test("saoe dev envelope --tamper changes a field after signing, so the signature no longer verifies", async () => {
  await using t = await makeTestHome();
  const run = await runSaoe(craftArgs(t, "--tamper", "human_readable=approved", "--json"));
  assert.equal(run.code, 0, run.stderr);
  const doc = JSON.parse(run.stdout);
  assert.deepEqual(doc.tampered, ["human_readable"]);
  const bytes = new TextEncoder().encode(JSON.stringify(doc.envelope));
  assert.equal(payloadOf(bytes).human_readable, "approved");
  assert.equal(await signedBy(bytes, await keyOf(t, "intake")), false);
});

Deno.test("saoe dev envelope --sign-as and --sign-with-seed sign with the other key", async () => {
  await using t = await makeTestHome();
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "posing.satl");
    const posing = await runSaoe(craftArgs(t, "--sign-as", "planner", "--out", out));
    assert.equal(posing.code, 0, posing.stderr);
    const bytes = await Deno.readFile(out);
    assert.equal(payloadOf(bytes).sender, "intake");
    assert.ok(await signedBy(bytes, await keyOf(t, "planner")));
    assert.equal(await signedBy(bytes, await keyOf(t, "intake")), false);

    const seed = crypto.getRandomValues(new Uint8Array(32));
    await Deno.writeTextFile(join(dir, "seed.hex"), `${toHex(seed)}\n`);
    const seeded = await runSaoe(craftArgs(t, "--sign-with-seed", join(dir, "seed.hex")));
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.ok(
      await signedBy(
        new TextEncoder().encode(seeded.stdout.trim()),
        await SigningKey.fromSeed(seed),
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("saoe dev envelope builds an expired window, a wrong digest and signed bad fields on request", async () => {
  await using t = await makeTestHome();
  const run = await runSaoe(craftArgs(
    t,
    "--expires-in=-600",
    "--template-sha256",
    "ab".repeat(32),
    "--set",
    "session_id=../../keys",
    "--json",
  ));
  assert.equal(run.code, 0, run.stderr);
  const bytes = new TextEncoder().encode(JSON.stringify(JSON.parse(run.stdout).envelope));
  const fields = payloadOf(bytes);
  const expires = Date.parse(String(fields.expires_at));
  assert.ok(expires < Date.now() - 590_000, "expires_at is ten minutes ago");
  assert.ok(Date.parse(String(fields.issued_at)) < expires);
  assert.equal((fields.template as { sha256: string }).sha256, "ab".repeat(32));
  assert.equal(fields.session_id, "../../keys");
  // signed as asked: the bad field is covered by the signature
  assert.ok(await signedBy(bytes, await keyOf(t, "intake")));
});

Deno.test("saoe dev envelope refuses bad usage with exit code 2", async () => {
  await using t = await makeTestHome();
  for (
    const args of [
      [
        "dev",
        "envelope",
        "--home",
        t.root,
        "--to",
        "sanitization",
        "--template",
        "x",
        "--payload",
        "{}",
      ],
      craftArgs(t, "--payload-file", "/nonexistent"),
      craftArgs(t, "--tamper", "no-equals-sign"),
      craftArgs(t, "--session", "../x"),
    ]
  ) {
    const run = await runSaoe(args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
  }
});

Deno.test("saoe dev inject drops a file atomically into the sender's inbox folder under its envelope id", async () => {
  await using t = await makeTestHome();
  const folder = inboxFromDir(t.home, "sanitization", "intake");
  await Deno.mkdir(folder, { recursive: true });
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "e.satl");
    assert.equal((await runSaoe(craftArgs(t, "--out", file))).code, 0);
    const id = String(payloadOf(await Deno.readFile(file)).envelope_id);
    const run = await runSaoe([
      "dev",
      "inject",
      "sanitization",
      file,
      "--as",
      "intake",
      "--home",
      t.root,
      "--json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).envelope_id, id);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(folder), (e) => e.name), [`${id}.satl`]);
    assert.deepEqual(await Deno.readFile(join(folder, `${id}.satl`)), await Deno.readFile(file));

    // bytes with no envelope id get a random UUID name
    await Deno.writeTextFile(join(dir, "junk"), "not json");
    const junk = await runSaoe([
      "dev",
      "inject",
      "sanitization",
      join(dir, "junk"),
      "--as",
      "intake",
      "--home",
      t.root,
    ]);
    assert.equal(junk.code, 0, junk.stderr);
    const names = await Array.fromAsync(Deno.readDir(folder), (e) => e.name);
    assert.equal(names.length, 2);
    assert.ok(names.every((n) => /^[0-9a-f-]{36}\.satl$/.test(n)), names.join(", "));

    // no folder for that sender: refused, nothing created
    const none = await runSaoe([
      "dev",
      "inject",
      "sanitization",
      file,
      "--as",
      "planner",
      "--home",
      t.root,
    ]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no such inbox folder.*\(io_error\)/);
    await assert.rejects(Deno.lstat(inboxFromDir(t.home, "sanitization", "planner")));

    // a symlinked sender folder is not written through
    const elsewhere = join(dir, "elsewhere");
    await Deno.mkdir(elsewhere);
    await Deno.symlink(elsewhere, inboxFromDir(t.home, "sanitization", "planner"));
    const linked = await runSaoe([
      "dev",
      "inject",
      "sanitization",
      file,
      "--as",
      "planner",
      "--home",
      t.root,
    ]);
    assert.equal(linked.code, 1);
    assert.match(linked.stderr, /unsafe_path/);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(elsewhere)), []);

    // an id that is not an agent id is a usage error
    const bad = await runSaoe([
      "dev",
      "inject",
      "../keys",
      file,
      "--as",
      "intake",
      "--home",
      t.root,
    ]);
    assert.equal(bad.code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "a tampered envelope made with saoe dev envelope and dropped with saoe dev inject is refused by the live pipeline",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization"] });
    await using _running = await startTestSupervisor(t);
    const dir = await Deno.makeTempDir();
    try {
      const file = join(dir, "tampered.satl");
      const made = await runSaoe(
        craftArgs(t, "--tamper", "payload.title=Forged", "--out", file, "--json"),
      );
      assert.equal(made.code, 0, made.stderr);
      const injected = await runSaoe([
        "dev",
        "inject",
        "sanitization",
        file,
        "--as",
        "intake",
        "--home",
        t.root,
      ]);
      assert.equal(injected.code, 0, injected.stderr);
      const events = await waitForEvent(
        t.home,
        (e) => e.type === "rejected" && e.agent === "sanitization",
        "the refusal of the tampered envelope",
      );
      const refusal = events.find((e) => e.type === "rejected")!;
      assert.equal(refusal.reason, "bad_signature");
      assert.equal(refusal.detail?.sender, "intake");
      assert.ok(!events.some((e) => e.type === "validated"));
      // decoded back, the file still carries the forged title the signature does not cover
      const doc = JSON.parse(await Deno.readTextFile(file));
      assert.equal(
        JSON.parse(new TextDecoder().decode(fromBase64(doc.payload))).payload.title,
        "Forged",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
