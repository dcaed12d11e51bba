import assert from "node:assert/strict";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { signStatement } from "../../../core/primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import { verifyTemplateManifest } from "../../../core/domain/vault/template_manifest.ts";

const T0 = Date.parse("2026-06-01T00:00:00Z");

async function manifest(signer: SigningKey, id: string, version: number): Promise<Uint8Array> {
  return await signStatement({
    payloadType: PAYLOAD_TYPES.templateManifest,
    payload: {
      id,
      version,
      sha256: "a".repeat(64),
      issued_at: "2026-06-01T00:00:00Z",
      expires_at: "2026-07-01T00:00:00Z",
    },
    signers: [signer],
  });
}

Deno.test("verifyTemplateManifest() returns the manifest signed for exactly this id and version", async () => {
  const dispatcher = await SigningKey.fromSeed(generateSeed());
  const trusted = { name: "dispatcher", keys: [dispatcher], threshold: 1 };
  const options = { dispatcher: trusted, clock: new FakeClock(T0), skewMs: 0 };
  const bytes = await manifest(dispatcher, "article", 2);
  const ok = await verifyTemplateManifest(bytes, { ...options, id: "article", version: 2 });
  assert.deepEqual([ok.id, ok.version], ["article", 2]);
  // a valid manifest of another version or template never vouches for this one
  for (const [id, version] of [["article", 1], ["other", 2]] as const) {
    await assert.rejects(
      verifyTemplateManifest(bytes, { ...options, id, version }),
      (err: unknown) => isSaoeError(err, "vault_resolution"),
    );
  }
  const stranger = await SigningKey.fromSeed(generateSeed());
  await assert.rejects(
    verifyTemplateManifest(await manifest(stranger, "article", 2), {
      ...options,
      id: "article",
      version: 2,
    }),
    (err: unknown) => isSaoeError(err, "dispatcher_signature"),
  );
  await assert.rejects(
    verifyTemplateManifest(bytes, {
      ...options,
      clock: new FakeClock(Date.parse("2026-08-01T00:00:00Z")),
      id: "article",
      version: 2,
    }),
    (err: unknown) => isSaoeError(err, "expired"),
  );
});
