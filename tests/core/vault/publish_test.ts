import assert from "node:assert/strict";
import { join } from "node:path";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import { sha256Hex } from "../../../core/primitives/crypto/bytes.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { signStatement } from "../../../core/primitives/dsse/sign.ts";
import { verifyStatement } from "../../../core/primitives/dsse/verify.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import { decryptWith, generateAgeIdentity } from "../../../core/domain/vault/age.ts";
import { publishCapset, publishTemplate } from "../../../core/domain/vault/publish.ts";
import {
  capsetPath,
  templateCipherPath,
  templateDir,
  templateManifestPath,
} from "../../../core/domain/vault/layout.ts";
import { decodeTemplateManifest } from "../../../core/domain/vault/template_types.ts";
import { dispatcherSet, newKey, runCliOk, templateBytes } from "./_fixtures.ts";

const T0 = Date.parse("2026-11-26T12:00:00Z");
const DAY = 86_400_000;

async function withVault(fn: (vault: string, root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "saoe_publish_" });
  try {
    await fn(join(root, "vault"), root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.byteLength <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("publishTemplate() writes age ciphertext and a dispatcher-signed manifest, no plaintext", async () => {
  await withVault(async (vault) => {
    const dispatcher = await newKey();
    const agent = await generateAgeIdentity();
    const bytes = templateBytes("blog_article", 1, "UNIQUE-PLAINTEXT-MARKER");
    const out = await publishTemplate({
      vault,
      templateBytes: bytes,
      recipients: [agent.recipient],
      signers: [dispatcher],
      issuedAt: T0,
      validForMs: DAY,
    });
    assert.equal(out.cipherPath, templateCipherPath(vault, "blog_article", 1));
    assert.equal(out.manifestPath, templateManifestPath(vault, "blog_article", 1));
    const cipher = await Deno.readFile(out.cipherPath);
    assert.ok(!contains(cipher, new TextEncoder().encode("UNIQUE-PLAINTEXT-MARKER")));
    assert.deepEqual(await decryptWith(agent.identity, cipher), bytes);
    const names = [];
    for await (const e of Deno.readDir(templateDir(vault, "blog_article"))) names.push(e.name);
    assert.deepEqual(names.sort(), ["1.age", "1.manifest.json"]);

    const verified = await verifyStatement(await Deno.readFile(out.manifestPath), {
      payloadType: PAYLOAD_TYPES.templateManifest,
      trusted: [dispatcherSet(dispatcher)],
      signatureCode: "dispatcher_signature",
      what: "manifest",
      decode: decodeTemplateManifest,
      clock: new FakeClock(T0),
      skewMs: 0,
      maxBytes: 16384,
    });
    assert.deepEqual(verified.payload, {
      id: "blog_article",
      version: 1,
      sha256: await sha256Hex(bytes),
      issued_at: "2026-11-26T12:00:00.000Z",
      expires_at: "2026-11-27T12:00:00.000Z",
    });
    assert.deepEqual(out.manifest, verified.payload);
  });
});

Deno.test("a template published by publishTemplate() decrypts with the age CLI", async () => {
  await withVault(async (vault, root) => {
    const keyFile = join(root, "key.txt");
    await runCliOk("age-keygen", ["-o", keyFile]);
    const recipient = new TextDecoder().decode(await runCliOk("age-keygen", ["-y", keyFile]))
      .trim();
    const bytes = templateBytes("image_job", 3);
    const out = await publishTemplate({
      vault,
      templateBytes: bytes,
      recipients: [recipient],
      signers: [await newKey()],
      issuedAt: T0,
      validForMs: DAY,
    });
    assert.deepEqual(await runCliOk("age", ["-d", "-i", keyFile, out.cipherPath]), bytes);
  });
});

Deno.test("publishTemplate() refuses to overwrite a published version or go back to a lower one", async () => {
  await withVault(async (vault) => {
    const agent = await generateAgeIdentity();
    const signers = [await newKey()];
    const base = { vault, recipients: [agent.recipient], signers, issuedAt: T0, validForMs: DAY };
    const first = await publishTemplate({ ...base, templateBytes: templateBytes("note", 2) });
    const cipherBefore = await Deno.readFile(first.cipherPath);
    const manifestBefore = await Deno.readFile(first.manifestPath);

    for (const version of [2, 1]) {
      await assert.rejects(
        publishTemplate({ ...base, templateBytes: templateBytes("note", version, "changed") }),
        (err) => isSaoeError(err, "rollback"),
      );
    }
    assert.deepEqual(await Deno.readFile(first.cipherPath), cipherBefore);
    assert.deepEqual(await Deno.readFile(first.manifestPath), manifestBefore);
    const names = [];
    for await (const e of Deno.readDir(templateDir(vault, "note"))) names.push(e.name);
    assert.deepEqual(names.sort(), ["2.age", "2.manifest.json"]);

    const next = await publishTemplate({ ...base, templateBytes: templateBytes("note", 3) });
    assert.equal(next.manifest.version, 3);
  });
});

Deno.test("publishTemplate() refuses a template that does not decode strictly, writing nothing", async () => {
  await withVault(async (vault) => {
    const agent = await generateAgeIdentity();
    const base = {
      vault,
      recipients: [agent.recipient],
      signers: [await newKey()],
      issuedAt: T0,
      validForMs: DAY,
    };
    const good = JSON.parse(new TextDecoder().decode(templateBytes("note", 1)));
    const cases: [string, string][] = [
      [JSON.stringify({ ...good, extra: true }), "parse_error"],
      ['{"id":"note","id":"other"}', "duplicate_key"],
      [JSON.stringify({ ...good, id: "../escape" }), "bad_identifier"],
    ];
    for (const [text, code] of cases) {
      await assert.rejects(
        publishTemplate({ ...base, templateBytes: new TextEncoder().encode(text) }),
        (err) => isSaoeError(err) && err.code === code,
      );
    }
    await assert.rejects(Deno.lstat(vault), Deno.errors.NotFound);
  });
});

Deno.test("publishTemplate() refuses a template folder that is a symlink", async () => {
  await withVault(async (vault, root) => {
    const elsewhere = join(root, "elsewhere");
    await Deno.mkdir(elsewhere);
    await Deno.mkdir(join(vault, "templates"), { recursive: true });
    await Deno.symlink(elsewhere, templateDir(vault, "note"));
    const agent = await generateAgeIdentity();
    await assert.rejects(
      publishTemplate({
        vault,
        templateBytes: templateBytes("note", 1),
        recipients: [agent.recipient],
        signers: [await newKey()],
        issuedAt: T0,
        validForMs: DAY,
      }),
      (err) => isSaoeError(err, "unsafe_path"),
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(elsewhere)), []);
  });
});

Deno.test("publishCapset() stores the signed capset encrypted and replaces an older one", async () => {
  await withVault(async (vault) => {
    const agent = await generateAgeIdentity();
    const dispatcher = await newKey();
    const sign = (version: number) =>
      signStatement({
        payloadType: PAYLOAD_TYPES.capset,
        payload: { agent: "planner", version },
        signers: [dispatcher],
      });
    const v1 = await sign(1);
    const path = await publishCapset({
      vault,
      agent: "planner",
      signedCapsetBytes: v1,
      recipients: [agent.recipient],
    });
    assert.equal(path, capsetPath(vault, "planner"));
    const cipher = await Deno.readFile(path);
    assert.ok(!contains(cipher, new TextEncoder().encode("payloadType")));
    assert.deepEqual(await decryptWith(agent.identity, cipher), v1);

    const v2 = await sign(2);
    await publishCapset({
      vault,
      agent: "planner",
      signedCapsetBytes: v2,
      recipients: [agent.recipient],
    });
    assert.deepEqual(await decryptWith(agent.identity, await Deno.readFile(path)), v2);
  });
});

Deno.test("publishCapset() refuses bytes that are not a signed capset", async () => {
  await withVault(async (vault) => {
    const agent = await generateAgeIdentity();
    const notCapset = await signStatement({
      payloadType: PAYLOAD_TYPES.plan,
      payload: { agent: "planner" },
      signers: [await newKey()],
    });
    await assert.rejects(
      publishCapset({
        vault,
        agent: "planner",
        signedCapsetBytes: notCapset,
        recipients: [agent.recipient],
      }),
      (err) => isSaoeError(err, "wrong_payload_type"),
    );
    await assert.rejects(
      publishCapset({
        vault,
        agent: "planner",
        signedCapsetBytes: new TextEncoder().encode('{"agent":"planner"}'),
        recipients: [agent.recipient],
      }),
      (err) => isSaoeError(err, "parse_error"),
    );
    await assert.rejects(
      publishCapset({
        vault,
        agent: "../x",
        signedCapsetBytes: notCapset,
        recipients: [agent.recipient],
      }),
      (err) => isSaoeError(err, "bad_identifier"),
    );
    await assert.rejects(Deno.lstat(vault), Deno.errors.NotFound);
  });
});
