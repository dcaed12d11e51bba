/**
 * `saoe publish` at a real terminal: each case runs the CLI inside a
 * pseudo-terminal (util-linux `script`), waits for the prompt, and types.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { templateManifestPath } from "../../core/domain/vault/layout.ts";
import {
  editedTemplate,
  makeHome,
  runInTerminal,
  type TestHome,
  treeDigest,
  writeSource,
} from "./_fixtures.ts";

const PROMPT = "Type the sha256 above to publish";
const processTest = { sanitizeOps: false, sanitizeResources: false };

async function refusedAtPrompt(send: string, reason: RegExp): Promise<void> {
  await using t: TestHome = await makeHome();
  const file = await writeSource(t, "t.json", await editedTemplate(2));
  const before = await treeDigest(t.home.vault);
  const { code, screen } = await runInTerminal(["publish", file, "--home", t.root], [
    { after: PROMPT, send },
  ]);
  assert.equal(code, 1, screen);
  assert.match(screen, reason);
  assert.match(screen, /nothing was written/);
  assert.equal(await treeDigest(t.home.vault), before, "the vault is byte-for-byte unchanged");
}

Deno.test({
  name: "saoe publish at a terminal refuses a wrong typed hash and leaves the vault unchanged",
  ...processTest,
  async fn() {
    await refusedAtPrompt(`${"0".repeat(64)}\n`, /\(content_hash_mismatch\)/);
  },
});

Deno.test({
  name: "saoe publish at a terminal refuses end of input (Ctrl-D) and leaves the vault unchanged",
  ...processTest,
  async fn() {
    await refusedAtPrompt("\x04", /end of input before the sha256 was typed/);
  },
});

Deno.test({
  name: "saoe publish at a terminal refuses Ctrl-C and leaves the vault unchanged",
  ...processTest,
  async fn() {
    await refusedAtPrompt("\x03", /interrupted before the sha256 was typed/);
  },
});

Deno.test({
  name: "saoe publish at a terminal publishes version 2 once the right hash is typed",
  ...processTest,
  async fn() {
    await using t = await makeHome();
    const file = await writeSource(t, "t.json", await editedTemplate(2));
    const hash = await sha256Hex(await Deno.readFile(file));
    const { code, screen } = await runInTerminal(["publish", file, "--home", t.root], [
      { after: PROMPT, send: `${hash.toUpperCase()}\n` },
    ]);
    assert.equal(code, 0, screen);
    assert.match(screen, /-\s+"maxLength": 200/);
    assert.match(screen, /\+\s+"maxLength": 321/);
    assert.match(screen, /Published the template blog_article_intent version 2/);
    await Deno.lstat(templateManifestPath(t.home.vault, "blog_article_intent", 2));
  },
});
