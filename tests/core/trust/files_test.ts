import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../../../core/primitives/crypto/bytes.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import { writeFileAtomic } from "../../../core/primitives/fs/atomic_write.ts";
import { verifyRootChain } from "../../../core/domain/trust/chain.ts";
import {
  directoryFile,
  loadRootChain,
  readDirectoryFile,
  rootFile,
  rootFolder,
  writeDirectoryFile,
  writeRootFile,
} from "../../../core/domain/trust/files.ts";
import { signRoot } from "../../../core/domain/trust/root.ts";
import { MemoryVersionStore } from "../../../core/domain/trust/version_store_memory.ts";
import { assertRefused, DAY, makeKeys, rootPayload, T0 } from "./_fixtures.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

async function withTrustDir(run: (trust: string) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "saoe_trust_" });
  try {
    await run(join(home, "trust"));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("loadRootChain() returns the roots in numeric version order", async () => {
  await withTrustDir(async (trust) => {
    for (const v of [10, 2, 1, 9, 3, 4, 5, 6, 7, 8]) {
      await writeRootFile(trust, v, bytes(`root ${v}`));
    }
    const roots = await loadRootChain(trust);
    assert.deepEqual(roots.map(text), Array.from({ length: 10 }, (_, i) => `root ${i + 1}`));
  });
});

Deno.test("loadRootChain() and verifyRootChain() accept a chain written with writeRootFile()", async () => {
  await withTrustDir(async (trust) => {
    const [a, b] = await makeKeys(2);
    const v1 = await signRoot({
      payload: rootPayload({ version: 1, keys: [a!], threshold: 1 }),
      signers: [a!],
    });
    const v2 = await signRoot({
      payload: rootPayload({ version: 2, keys: [b!], threshold: 1 }),
      signers: [a!, b!],
    });
    await writeRootFile(trust, 1, v1);
    await writeRootFile(trust, 2, v2);
    const root = await verifyRootChain({
      roots: await loadRootChain(trust),
      pin: await sha256Hex(v1),
      clock: new FakeClock(T0 + DAY),
      skewMs: 0,
      versionStore: new MemoryVersionStore(),
    });
    assert.equal(root.version, 2);
  });
});

Deno.test("loadRootChain() refuses a symlink in the root folder", async () => {
  await withTrustDir(async (trust) => {
    await writeRootFile(trust, 1, bytes("root 1"));
    const outside = join(trust, "..", "elsewhere.json");
    await Deno.writeTextFile(outside, "planted");
    await Deno.symlink(outside, rootFile(trust, 2));
    await assertRefused(() => loadRootChain(trust), "unsafe_path");
  });
});

Deno.test("loadRootChain() refuses a symlinked root folder", async () => {
  await withTrustDir(async (trust) => {
    const real = join(trust, "..", "real_root");
    await Deno.mkdir(real);
    await Deno.writeTextFile(join(real, "1.root.json"), "root 1");
    await Deno.mkdir(trust);
    await Deno.symlink(real, rootFolder(trust));
    await assertRefused(() => loadRootChain(trust), "unsafe_path");
  });
});

Deno.test("loadRootChain() refuses a hard-linked root file", async () => {
  await withTrustDir(async (trust) => {
    await writeRootFile(trust, 1, bytes("root 1"));
    await Deno.link(rootFile(trust, 1), join(trust, "..", "second_name"));
    await assertRefused(() => loadRootChain(trust), "unsafe_path");
  });
});

Deno.test("loadRootChain() refuses a gap in the versions", async () => {
  await withTrustDir(async (trust) => {
    await writeRootFile(trust, 1, bytes("root 1"));
    await writeRootFile(trust, 3, bytes("root 3"));
    await assertRefused(() => loadRootChain(trust), "root_signature");
  });
});

Deno.test("loadRootChain() refuses a chain that does not start at 1", async () => {
  await withTrustDir(async (trust) => {
    await writeRootFile(trust, 2, bytes("root 2"));
    await assertRefused(() => loadRootChain(trust), "root_signature");
  });
});

Deno.test("loadRootChain() refuses unexpected names and folders but skips temp files", async () => {
  await withTrustDir(async (trust) => {
    await writeRootFile(trust, 1, bytes("root 1"));
    await Deno.writeTextFile(
      join(rootFolder(trust), ".tmp-0b9c1f8e-2f4a-4c1e-9d7b-3a2e1f0c9d8b"),
      "x",
    );
    assert.equal((await loadRootChain(trust)).length, 1);
    for (const name of ["01.root.json", "2.root.json.bak", "root.json", "2.ROOT.json"]) {
      await Deno.writeTextFile(join(rootFolder(trust), name), "x");
      await assertRefused(() => loadRootChain(trust), "unsafe_path");
      await Deno.remove(join(rootFolder(trust), name));
    }
    await Deno.mkdir(join(rootFolder(trust), "2.root.json"));
    await assertRefused(() => loadRootChain(trust), "unsafe_path");
  });
});

Deno.test("loadRootChain() refuses a root file over 1 MiB", async () => {
  await withTrustDir(async (trust) => {
    await writeRootFile(trust, 1, new Uint8Array(1024 * 1024 + 1));
    await assertRefused(() => loadRootChain(trust), "size_exceeded");
  });
});

Deno.test("loadRootChain() refuses more files than maxRotations allows", async () => {
  await withTrustDir(async (trust) => {
    for (let v = 1; v <= 4; v++) await writeRootFile(trust, v, bytes(`root ${v}`));
    assert.equal((await loadRootChain(trust, { maxRotations: 3 })).length, 4);
    await writeRootFile(trust, 5, bytes("root 5"));
    await assertRefused(() => loadRootChain(trust, { maxRotations: 3 }), "chain_too_long");
  });
});

Deno.test("loadRootChain() refuses a missing root folder", async () => {
  await withTrustDir(async (trust) => {
    await Deno.mkdir(trust);
    await assertRefused(() => loadRootChain(trust), "io_error");
  });
});

Deno.test("writeRootFile() never rewrites an existing version", async () => {
  await withTrustDir(async (trust) => {
    await writeRootFile(trust, 1, bytes("root 1"));
    await assertRefused(() => writeRootFile(trust, 1, bytes("other")), "io_error");
    assert.equal(await Deno.readTextFile(rootFile(trust, 1)), "root 1");
  });
});

Deno.test("writeDirectoryFile() replaces the directory and readDirectoryFile() refuses a symlink", async () => {
  await withTrustDir(async (trust) => {
    await writeDirectoryFile(trust, bytes("one"));
    await writeDirectoryFile(trust, bytes("two"));
    assert.equal(text(await readDirectoryFile(trust)), "two");
    assert.deepEqual(await names(trust), ["directory.json"]);
    await Deno.remove(directoryFile(trust));
    await Deno.writeTextFile(join(trust, "real.json"), "planted");
    await Deno.symlink(join(trust, "real.json"), directoryFile(trust));
    await assertRefused(() => readDirectoryFile(trust), "unsafe_path");
  });
});

Deno.test("writeFileAtomic() leaves no temp file and refuses to write into a missing folder", async () => {
  await withTrustDir(async (trust) => {
    await Deno.mkdir(trust);
    const path = join(trust, "a.json");
    await writeFileAtomic(path, bytes("1"));
    await writeFileAtomic(path, bytes("2"));
    assert.equal(await Deno.readTextFile(path), "2");
    assert.deepEqual(await names(trust), ["a.json"]);
    await assert.rejects(() => writeFileAtomic(join(trust, "missing", "b.json"), bytes("x")));
  });
});
