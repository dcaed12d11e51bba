import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AGE_IDENTITY_RE,
  AGE_RECIPIENT_RE,
  decryptWith,
  encryptTo,
  generateAgeIdentity,
  recipientOf,
} from "../../../core/domain/vault/age.ts";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import { runCliOk } from "./_fixtures.ts";

const TEXT = new TextEncoder();
const plaintext = TEXT.encode('{"id":"blog_article","note":"héllo ✓"}\n');

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "saoe_age_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("generateAgeIdentity() returns an X25519 identity and its recipient", async () => {
  const pair = await generateAgeIdentity();
  assert.match(pair.identity, AGE_IDENTITY_RE);
  assert.match(pair.recipient, AGE_RECIPIENT_RE);
  assert.equal(await recipientOf(pair.identity), pair.recipient);
});

Deno.test("encryptTo() writes binary age that decryptWith() opens for every recipient", async () => {
  const a = await generateAgeIdentity();
  const b = await generateAgeIdentity();
  const ct = await encryptTo([a.recipient, b.recipient], plaintext);
  assert.deepEqual(ct.subarray(0, 21), TEXT.encode("age-encryption.org/v1"));
  assert.deepEqual(await decryptWith(a.identity, ct), plaintext);
  assert.deepEqual(await decryptWith(b.identity, ct), plaintext);
});

Deno.test("decryptWith() refuses an identity that is not a recipient with vault_access", async () => {
  const a = await generateAgeIdentity();
  const outsider = await generateAgeIdentity();
  const ct = await encryptTo([a.recipient], plaintext);
  await assert.rejects(
    decryptWith(outsider.identity, ct),
    (err) => isSaoeError(err, "vault_access"),
  );
});

Deno.test("decryptWith() refuses a tampered ciphertext with vault_access", async () => {
  const a = await generateAgeIdentity();
  const ct = await encryptTo([a.recipient], plaintext);
  ct[ct.byteLength - 1]! ^= 1;
  await assert.rejects(decryptWith(a.identity, ct), (err) => isSaoeError(err, "vault_access"));
});

Deno.test("decryptWith() refuses a malformed identity without quoting it", async () => {
  const secret = "AGE-SECRET-KEY-1NOTREALLYASECRET";
  await assert.rejects(decryptWith(secret, new Uint8Array(1)), (err) => {
    assert.ok(isSaoeError(err, "bad_config"));
    assert.ok(!err.message.includes(secret));
    return true;
  });
});

Deno.test("encryptTo() refuses no recipients, and non-X25519 recipients", async () => {
  await assert.rejects(encryptTo([], plaintext), (err) => isSaoeError(err, "bad_config"));
  await assert.rejects(
    encryptTo(["age1pq1notsupported"], plaintext),
    (err) => isSaoeError(err, "bad_config"),
  );
});

Deno.test("a file encrypted by encryptTo() decrypts with the age CLI and an age-keygen key", async () => {
  await withTempDir(async (dir) => {
    const keyFile = join(dir, "key.txt");
    await runCliOk("age-keygen", ["-o", keyFile]);
    const recipient = new TextDecoder().decode(await runCliOk("age-keygen", ["-y", keyFile]))
      .trim();
    assert.match(recipient, AGE_RECIPIENT_RE);
    const cipherFile = join(dir, "data.age");
    await Deno.writeFile(cipherFile, await encryptTo([recipient], plaintext));
    const out = await runCliOk("age", ["-d", "-i", keyFile, cipherFile]);
    assert.deepEqual(out, plaintext);
  });
});

Deno.test("a file encrypted by the age CLI to our recipient decrypts with decryptWith()", async () => {
  await withTempDir(async (dir) => {
    const pair = await generateAgeIdentity();
    const plainFile = join(dir, "data.json");
    const cipherFile = join(dir, "data.age");
    await Deno.writeFile(plainFile, plaintext);
    await runCliOk("age", ["-r", pair.recipient, "-o", cipherFile, plainFile]);
    const ct = await Deno.readFile(cipherFile);
    assert.deepEqual(ct.subarray(0, 21), TEXT.encode("age-encryption.org/v1"));
    assert.deepEqual(await decryptWith(pair.identity, ct), plaintext);
  });
});

Deno.test("recipientOf() agrees with age-keygen -y on a CLI-generated identity", async () => {
  await withTempDir(async (dir) => {
    const keyFile = join(dir, "key.txt");
    await runCliOk("age-keygen", ["-o", keyFile]);
    const identity = (await Deno.readTextFile(keyFile)).split("\n")
      .find((line) => line.startsWith("AGE-SECRET-KEY-1"));
    assert.ok(identity !== undefined);
    const expected = new TextDecoder().decode(await runCliOk("age-keygen", ["-y", keyFile])).trim();
    assert.equal(await recipientOf(identity), expected);
  });
});
