import assert from "node:assert/strict";
import { join } from "node:path";
import { SaoeError } from "../../core/primitives/errors.ts";
import { homeLayout } from "../../core/domain/home/layout.ts";
import { assertSafeTree, findUnsafeEntries } from "../../core/services/supervisor/tree_check.ts";
import { createAgentFolders, requiredFolders } from "../../core/services/supervisor/folders.ts";

async function tempHome() {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-tree-" }));
  return {
    home: homeLayout(root),
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
}

Deno.test("findUnsafeEntries() finds symlinks, hard links and FIFOs without following links", async () => {
  await using t = await tempHome();
  const { home } = t;
  await Deno.mkdir(join(home.output, "s1"), { recursive: true });
  await Deno.mkdir(home.trust, { recursive: true });
  await Deno.mkdir(join(home.media, "deep", "er"), { recursive: true });
  await Deno.writeTextFile(join(home.output, "s1", "index.html"), "ok");
  await Deno.writeTextFile(join(home.root, "secret"), "s");
  await Deno.symlink(join(home.root, "secret"), join(home.output, "s1", "link"));
  // a link to a folder must be reported, not walked into
  await Deno.symlink(home.root, join(home.trust, "loop"));
  await Deno.link(join(home.root, "secret"), join(home.media, "deep", "er", "hard"));
  const fifo = join(home.output, "fifo");
  await new Deno.Command("mkfifo", { args: [fifo] }).output();
  const found = await findUnsafeEntries(home);
  const byPath = Object.fromEntries(found.map((f) => [f.path, f.kind]));
  assert.deepEqual(byPath, {
    [join(home.output, "s1", "link")]: "symlink",
    [join(home.trust, "loop")]: "symlink",
    [join(home.media, "deep", "er", "hard")]: "hard_link",
    [fifo]: "special",
  });
});

Deno.test("findUnsafeEntries() refuses an agent-visible folder that is itself a symlink", async () => {
  await using t = await tempHome();
  const elsewhere = await Deno.makeTempDir();
  try {
    await Deno.symlink(elsewhere, t.home.uploads);
    assert.deepEqual(await findUnsafeEntries(t.home), [{ path: t.home.uploads, kind: "symlink" }]);
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("findUnsafeEntries() ignores the key store and audit folders agents never see", async () => {
  await using t = await tempHome();
  await Deno.mkdir(t.home.audit, { recursive: true });
  await Deno.symlink("/etc/hostname", join(t.home.audit, "link"));
  assert.deepEqual(await findUnsafeEntries(t.home), []);
  await assertSafeTree(t.home);
});

Deno.test("assertSafeTree() refuses with unsafe_path, naming the entry and the fix", async () => {
  await using t = await tempHome();
  const link = join(t.home.agents, "planner", "inbox", "sanitization", "x.satl");
  await Deno.mkdir(join(t.home.agents, "planner", "inbox", "sanitization"), { recursive: true });
  await Deno.symlink("/etc/passwd", link);
  await assert.rejects(assertSafeTree(t.home), (err: unknown) => {
    assert.ok(err instanceof SaoeError);
    assert.equal(err.code, "unsafe_path");
    assert.ok(err.message.includes(link));
    assert.match(err.message, /Remove it/);
    return true;
  });
});

Deno.test("createAgentFolders() creates every inbox edge and agent folder with mode 0700", async () => {
  await using t = await tempHome();
  const capsets = [
    { agent: "sanitization", receives: [{ from: "intake", templates: [] }], sends: [] },
    { agent: "intake", receives: [], sends: [{ to: "sanitization", templates: [] }] },
    { agent: "planner", receives: [], sends: [{ to: "deployment", templates: [] }] },
  ];
  const folders = await createAgentFolders(t.home, capsets);
  assert.deepEqual(folders, requiredFolders(t.home, capsets));
  for (
    const path of [
      join(t.home.agents, "sanitization", "inbox", "intake"),
      join(t.home.agents, "deployment", "inbox", "planner"),
      join(t.home.agents, "intake", "quarantine"),
      join(t.home.agents, "sanitization", "dead"),
      join(t.home.agents, "planner", "retry"),
      join(t.home.agents, "planner", "store"),
      t.home.uploads,
      t.home.media,
      t.home.output,
    ]
  ) {
    const info = await Deno.stat(path);
    assert.ok(info.isDirectory, path);
    assert.equal(info.mode! & 0o777, 0o700, path);
  }
});
