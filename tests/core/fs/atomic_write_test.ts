import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileAtomic } from "../../../core/primitives/fs/atomic_write.ts";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import { listNames } from "../queue/_fixtures.ts";

Deno.test("writeFileAtomic() never shows a partial file under the final name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "big.satl");
    const size = 4 * 1024 * 1024;
    let writing = true;
    let reads = 0;
    let seenFull = 0;
    const reader = (async () => {
      while (writing) {
        try {
          const bytes = await Deno.readFile(path);
          reads++;
          assert.equal(bytes.byteLength, size, "a reader saw a partial file");
          // each version is filled with one byte value: a mix would be a torn write
          assert.equal(bytes[size - 1], bytes[0]);
          seenFull++;
        } catch (err: unknown) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
          // yields to the writer between reads; the loop ends when the writer is done
          await new Promise((r) => setTimeout(r, 0));
        }
      }
    })();
    for (let i = 1; i <= 12; i++) {
      await writeFileAtomic(path, new Uint8Array(size).fill(i));
    }
    writing = false;
    await reader;
    assert.ok(reads > 0 && seenFull > 0, "the reader never saw the file");
    assert.deepEqual(await listNames(dir), ["big.satl"]);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["big.satl"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() refuses a symlinked folder and a symlink destination", async () => {
  const dir = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  try {
    await Deno.symlink(outside, join(dir, "linked"));
    await assert.rejects(
      writeFileAtomic(join(dir, "linked", "a.satl"), new Uint8Array([1])),
      (err: unknown) => isSaoeError(err, "unsafe_path"),
    );
    await Deno.writeTextFile(join(outside, "target"), "keep");
    await Deno.symlink(join(outside, "target"), join(dir, "b.satl"));
    await assert.rejects(
      writeFileAtomic(join(dir, "b.satl"), new Uint8Array([1])),
      (err: unknown) => isSaoeError(err, "unsafe_path"),
    );
    assert.equal(await Deno.readTextFile(join(outside, "target")), "keep");
    assert.deepEqual(await listNames(outside), ["target"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("writeFileAtomic() refuses a missing folder with io_error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      writeFileAtomic(join(dir, "nope", "a.satl"), new Uint8Array([1])),
      (err: unknown) => isSaoeError(err, "io_error"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() runs beforeCommit with the file durable but not yet visible, and a rejection aborts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.satl`;
    let visibleDuring: boolean | undefined;
    let tempsDuring = 0;
    await writeFileAtomic(path, new TextEncoder().encode("x"), {
      async beforeCommit() {
        visibleDuring = await Deno.lstat(path).then(() => true, () => false);
        for await (const e of Deno.readDir(dir)) if (e.name.startsWith(".tmp-")) tempsDuring++;
      },
    });
    assert.equal(visibleDuring, false, "the final name appears only after beforeCommit");
    assert.equal(tempsDuring, 1, "the complete temp file exists while beforeCommit runs");
    assert.equal(await Deno.readTextFile(path), "x");

    const aborted = `${dir}/b.satl`;
    await assert.rejects(
      writeFileAtomic(aborted, new TextEncoder().encode("y"), {
        beforeCommit: () => Promise.reject(new Error("report failed")),
      }),
      /report failed/,
    );
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.sort(), ["a.satl"], "nothing visible, no temp left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
