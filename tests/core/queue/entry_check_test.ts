import assert from "node:assert/strict";
import { join } from "node:path";
import { checkEntry, UnsafeEntryError } from "../../../core/domain/queue/entry_check.ts";
import { entryName } from "./_fixtures.ts";

async function refusedKind(path: string): Promise<string> {
  try {
    await checkEntry(path);
  } catch (err: unknown) {
    if (err instanceof UnsafeEntryError && err.code === "unsafe_path") return err.kind;
    throw err;
  }
  throw new Error(`checkEntry() accepted ${path}`);
}

Deno.test("checkEntry() accepts a regular single-link file with an entry name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, entryName());
    await Deno.writeTextFile(path, "x");
    assert.equal((await checkEntry(path)).size, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkEntry() refuses a symlink, a folder, a hard link and a bad name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const target = join(dir, "secret");
    await Deno.writeTextFile(target, "s");
    const link = join(dir, entryName());
    await Deno.symlink(target, link);
    assert.equal(await refusedKind(link), "symlink");
    const folder = join(dir, entryName());
    await Deno.mkdir(folder);
    assert.equal(await refusedKind(folder), "directory");
    const hard = join(dir, entryName());
    await Deno.link(target, hard);
    assert.equal(await refusedKind(hard), "hard_link");
    const badName = join(dir, "notes.txt");
    await Deno.writeTextFile(badName, "x");
    assert.equal(await refusedKind(badName), "file");
    const upper = join(dir, entryName().toUpperCase().replace(".SATL", ".satl"));
    await Deno.writeTextFile(upper, "x");
    assert.equal(await refusedKind(upper), "file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkEntry() refuses a named pipe", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = join(dir, entryName());
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output().catch(() => null);
    if (made === null || !made.success) return; // no mkfifo on this platform
    assert.equal(await refusedKind(fifo), "other");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
