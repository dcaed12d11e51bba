import assert from "node:assert/strict";
import { join } from "node:path";
import { FileVersionStore } from "../../../core/domain/trust/version_store_file.ts";
import { MemoryVersionStore } from "../../../core/domain/trust/version_store_memory.ts";
import type { VersionStore } from "../../../core/domain/trust/version_store.ts";
import { assertRefused } from "./_fixtures.ts";

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "saoe_versions_" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function conformance(store: VersionStore): Promise<void> {
  assert.equal(await store.highest("root"), 0);
  await store.raise("root", 3);
  await store.raise("root", 2);
  await store.raise("capset:planner", 7);
  assert.equal(await store.highest("root"), 3);
  assert.equal(await store.highest("capset:planner"), 7);
  assert.equal(await store.highest("directory"), 0);
  await assert.rejects(() => store.raise("root", -1), RangeError);
  await assert.rejects(() => store.raise("root", 1.5), RangeError);
}

Deno.test("MemoryVersionStore never lowers a version", async () => {
  await conformance(new MemoryVersionStore());
});

Deno.test("FileVersionStore never lowers a version and persists across instances", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "versions.json");
    await conformance(new FileVersionStore(path));
    const again = new FileVersionStore(path);
    assert.equal(await again.highest("root"), 3);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), {
      versions: { "capset:planner": 7, root: 3 },
    });
  });
});

Deno.test("FileVersionStore serialises concurrent raises", async () => {
  await withDir(async (dir) => {
    const store = new FileVersionStore(join(dir, "versions.json"));
    await Promise.all([5, 9, 2, 7].map((v, i) => store.raise(`k${i}`, v)));
    assert.deepEqual(
      await Promise.all([0, 1, 2, 3].map((i) => store.highest(`k${i}`))),
      [5, 9, 2, 7],
    );
  });
});

Deno.test("FileVersionStore refuses a corrupt or tampered file rather than starting over", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "versions.json");
    const store = new FileVersionStore(path);
    await Deno.writeTextFile(path, "{not json");
    await assertRefused(() => store.highest("root"), "parse_error");
    await Deno.writeTextFile(path, '{"versions":{"root":1,"root":9}}');
    await assertRefused(() => store.highest("root"), "duplicate_key");
    await Deno.writeTextFile(path, '{"versions":{"root":-1}}');
    await assertRefused(() => store.highest("root"), "parse_error");
    await Deno.writeTextFile(path, '{"versions":{},"extra":1}');
    await assertRefused(() => store.raise("root", 1), "parse_error");
  });
});

Deno.test("FileVersionStore refuses a symlinked store file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "real.json"), '{"versions":{"root":1}}');
    await Deno.symlink(join(dir, "real.json"), join(dir, "versions.json"));
    await assertRefused(
      () => new FileVersionStore(join(dir, "versions.json")).highest("root"),
      "unsafe_path",
    );
  });
});
