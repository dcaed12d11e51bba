import assert from "node:assert/strict";
import { join } from "node:path";
import { envelopeFileName } from "../../../core/domain/validate/envelope.ts";
import { buildWorld, ME } from "./_fixtures.ts";
import { expectRefusal } from "./_refusal.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "saoe_validate_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("validateFile() accepts a valid envelope file", async () => {
  await withTempDir(async (dir) => {
    const world = await buildWorld();
    const fields = world.fields();
    const path = join(dir, envelopeFileName(fields.envelope_id as string));
    await Deno.writeFile(path, await world.sign(fields));
    const ok = await world.validator.validateFile(path);
    assert.equal(ok.envelope.envelope_id, fields.envelope_id);
    assert.deepEqual(world.capsets.calls, [ME, "sanitization", ME]);
  });
});

Deno.test("validateFile() refuses a file over the size cap with size_exceeded without parsing it", async () => {
  await withTempDir(async (dir) => {
    const world = await buildWorld({ maxEnvelopeBytes: 1024 });
    const path = join(dir, "big.satl");
    // far larger than the cap and not even JSON: only max+1 bytes are read
    await Deno.writeFile(path, new Uint8Array(8 * 1024 * 1024).fill(0x7b));
    await expectRefusal(world, path, { code: "size_exceeded", step: 1, ids: {} });
  });
});

Deno.test("validateFile() accepts a file of exactly the size cap", async () => {
  await withTempDir(async (dir) => {
    const world = await buildWorld({ maxEnvelopeBytes: 1024 });
    const bytes = await world.sign();
    const padded = new Uint8Array(1024).fill(0x20);
    padded.set(bytes);
    assert.ok(bytes.byteLength <= 1024);
    const path = join(dir, "exact.satl");
    await Deno.writeFile(path, padded);
    await world.validator.validateFile(path);
  });
});

Deno.test("validateFile() refuses a symlink in the inbox with unsafe_path", async () => {
  await withTempDir(async (dir) => {
    const world = await buildWorld();
    const target = join(dir, "target.satl");
    await Deno.writeFile(target, await world.sign());
    const link = join(dir, "link.satl");
    await Deno.symlink(target, link);
    await expectRefusal(world, link, { code: "unsafe_path", step: 1, ids: {} });
    const hard = join(dir, "hard.satl");
    await Deno.link(target, hard);
    await expectRefusal(world, hard, { code: "unsafe_path", step: 1, ids: {} });
  });
});
