import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../../../core/primitives/crypto/bytes.ts";
import { isSaoeError, type ReasonCode } from "../../../core/primitives/errors.ts";
import { homeLayout, sessionDir } from "../../../core/domain/home/layout.ts";
import { readMedia, readUpload, writeMedia } from "../../../core/services/deployment/media.ts";
import { readRegularFile } from "../../../core/services/deployment/safe_file.ts";

async function home() {
  const root = await Deno.realPath(await Deno.makeTempDir());
  const layout = homeLayout(root);
  for (const f of ["uploads", "media", "output"] as const) await Deno.mkdir(layout[f]);
  return layout;
}

async function refusal(p: Promise<unknown>): Promise<ReasonCode> {
  try {
    await p;
  } catch (err: unknown) {
    if (isSaoeError(err)) return err.code;
    throw err;
  }
  assert.fail("expected a refusal");
}

Deno.test("readUpload() reads a regular upload that hashes to the signed digest and refuses one that does not", async () => {
  const h = await home();
  try {
    const session = crypto.randomUUID();
    const bytes = new TextEncoder().encode("image bytes");
    const sha = await sha256Hex(bytes);
    await Deno.mkdir(sessionDir(h, "uploads", session));
    await Deno.writeFile(join(sessionDir(h, "uploads", session), `${sha}.png`), bytes);
    assert.deepEqual(
      await readUpload({ home: h, session, file: `${sha}.png`, sha256: sha }),
      bytes,
    );
    assert.equal(
      await refusal(readUpload({ home: h, session, file: `${sha}.png`, sha256: "00".repeat(32) })),
      "content_hash_mismatch",
    );
    assert.equal(
      await refusal(readUpload({ home: h, session, file: "../x.png", sha256: sha })),
      "bad_identifier",
    );
    assert.equal(
      await refusal(readUpload({ home: h, session: "../..", file: `${sha}.png`, sha256: sha })),
      "bad_identifier",
    );
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("readUpload() refuses a session folder that is a symlink", async () => {
  const h = await home();
  try {
    const session = crypto.randomUUID();
    const elsewhere = join(h.root, "elsewhere");
    await Deno.mkdir(elsewhere);
    const bytes = new TextEncoder().encode("x");
    const sha = await sha256Hex(bytes);
    await Deno.writeFile(join(elsewhere, `${sha}.png`), bytes);
    await Deno.symlink(elsewhere, sessionDir(h, "uploads", session));
    assert.equal(
      await refusal(readUpload({ home: h, session, file: `${sha}.png`, sha256: sha })),
      "unsafe_path",
    );
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("readRegularFile() refuses a symlink, a hard link, a folder and an oversized file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/file`, "12345");
    assert.equal(new TextDecoder().decode(await readRegularFile(`${dir}/file`, 5)), "12345");
    assert.equal(await refusal(readRegularFile(`${dir}/file`, 4)), "size_exceeded");
    await Deno.symlink(`${dir}/file`, `${dir}/link`);
    assert.equal(await refusal(readRegularFile(`${dir}/link`, 100)), "unsafe_path");
    await Deno.mkdir(`${dir}/folder`);
    assert.equal(await refusal(readRegularFile(`${dir}/folder`, 100)), "unsafe_path");
    await Deno.link(`${dir}/file`, `${dir}/hard`);
    assert.equal(await refusal(readRegularFile(`${dir}/file`, 100)), "unsafe_path");
    assert.equal(await refusal(readRegularFile(`${dir}/missing`, 100)), "io_error");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeMedia() names the file by its SHA-256 and readMedia() checks name and bytes", async () => {
  const h = await home();
  try {
    const session = crypto.randomUUID();
    const bytes = new TextEncoder().encode("sanitised");
    const written = await writeMedia({ home: h, session, bytes, mediaType: "image/jpeg" });
    assert.equal(written.sha256, await sha256Hex(bytes));
    assert.equal(written.file, `${written.sha256}.jpg`);
    assert.deepEqual(await Deno.readFile(written.path), bytes);
    const ok = { home: h, session, file: written.file, sha256: written.sha256 };
    assert.deepEqual(await readMedia({ ...ok, mediaType: "image/jpeg" }), bytes);
    // the name must agree with the signed digest and media type
    assert.equal(await refusal(readMedia({ ...ok, mediaType: "image/png" })), "bad_identifier");
    // bytes swapped after signing
    await Deno.writeTextFile(written.path, "swapped");
    assert.equal(
      await refusal(readMedia({ ...ok, mediaType: "image/jpeg" })),
      "content_hash_mismatch",
    );
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});
