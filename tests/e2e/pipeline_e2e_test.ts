/**
 * The whole product, end to end through real processes: `saoe pipeline` (the
 * supervisor and six sandboxed agents) on a fresh home, articles submitted with
 * `saoe submit` over authenticated HTTP, published pages checked on disk, the
 * audit trail checked for causal order and `saoe audit verify` run after stop.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sampleJpeg } from "../../scripts/demo/sample_image.ts";
import { ledgerEvents, makeTestHome, runSaoe, startCliPipeline } from "../supervisor/_harness.ts";
import { assertCausalOrder, intakeUrl, submit } from "./_e2e.ts";

const MARKDOWN = [
  "Intro paragraph with **bold** text.",
  "",
  "## A heading",
  "",
  "- one",
  "- two",
  "",
  "```",
  "const x = 1 < 2;",
  "```",
  "",
  "| a | b |",
  "| - | - |",
  "| 1 | 2 |",
].join("\n");

const XSS_TITLE = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
const XSS_BODY = [
  "<script>alert(3)</script>",
  "<img src=x onerror=alert(4)>",
  "[click](javascript:alert(5))",
  "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==)",
  '<svg onload=alert(7)><a xlink:href="javascript:alert(8)">x</a></svg>',
  '<noscript><p title="</noscript><img src=x onerror=alert(9)>">',
  '<a href="jav&#x09;ascript:alert(10)">tab</a>',
  "![img](javascript:alert(11))",
].join("\n\n");

Deno.test({
  name:
    "saoe pipeline publishes a text article and a text+image article end to end, in causal order",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    const work = await Deno.makeTempDir({ prefix: "saoe-e2e-" });
    try {
      await using pipeline = await startCliPipeline(t);
      const url = await intakeUrl(pipeline);

      // text only: markdown structure survives the formatter and the re-sanitiser
      const md = join(work, "article.md");
      await Deno.writeTextFile(md, MARKDOWN);
      const text = await submit(t.root, url, [
        "--title",
        "Structure",
        "--markdown-file",
        md,
        "--wait",
      ]);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.result.outcome, "published");
      const page = await Deno.readTextFile(text.result.article);
      for (const tag of ["<p>", "<h2>", "<ul>", "<li>", "<pre><code>", "<table>", "<td>"]) {
        assert.ok(page.includes(tag), `the article keeps ${tag}`);
      }
      assert.ok(page.includes("const x = 1 &lt; 2;"), "code is escaped, not interpreted");

      // text + image: the image is sanitised, content-addressed and served per session
      const photo = join(work, "photo.jpg");
      await Deno.writeFile(photo, sampleJpeg(800, 600));
      const withImage = await submit(t.root, url, [
        "--title",
        "With a photo",
        "--markdown",
        "A photo follows.",
        "--image",
        photo,
        "--wait",
      ]);
      assert.equal(withImage.code, 0, withImage.stderr);
      const session = withImage.result.session_id;
      const imagePage = await Deno.readTextFile(withImage.result.article);
      const src = imagePage.match(
        /<img src="(\/output\/img\/([0-9a-f-]{36})\/([0-9a-f]{64})\.jpg)"/,
      );
      assert.ok(src !== null, "the page references its image under /output/img/<session>/");
      assert.equal(src[2], session, "the image path is the article's own session");
      const served = await Deno.readFile(join(t.home.output, session, "img", `${src[3]}.jpg`));
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", served)).toHex();
      assert.equal(digest, src[3], "the image file is named by its SHA-256");

      const events = await ledgerEvents(t.home);
      assertCausalOrder(events, text.result.session_id);
      assertCausalOrder(events, session);
      const tools = events.filter((e) => e.session_id === session && e.type === "tool_executed");
      assert.deepEqual(tools.map((e) => e.agent).sort(), ["image_filter", "text_formatter"]);

      const stopped = await pipeline.stop("SIGINT");
      assert.equal(stopped.code, 0);
      const verify = await runSaoe(["audit", "verify", "--home", t.root]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "an XSS corpus in title and body leaves no script, handler or javascript:/data: URL in the article",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    await using pipeline = await startCliPipeline(t);
    const url = await intakeUrl(pipeline);
    const { code, result, stderr } = await submit(t.root, url, [
      "--title",
      XSS_TITLE,
      "--markdown",
      XSS_BODY,
      "--wait",
    ]);
    assert.equal(code, 0, stderr);
    const page = await Deno.readTextFile(result.article);
    // only real tags matter: the payloads may (and should) survive as escaped text
    const tags = page.match(/<[a-zA-Z][^>]*>/g) ?? [];
    const names = new Set(tags.map((tag) => tag.slice(1).split(/[\s>/]/)[0]!.toLowerCase()));
    for (const bad of ["script", "svg", "noscript", "iframe", "object", "embed", "math", "img"]) {
      assert.ok(!names.has(bad), `no <${bad}> element in the article`);
    }
    for (const tag of tags) {
      assert.doesNotMatch(tag, /\son[a-z]+\s*=/i, `no event handler attribute in ${tag}`);
      assert.doesNotMatch(tag, /=\s*"?\s*(javascript|data|vbscript):/i, `no script URL in ${tag}`);
    }
    assert.ok(page.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), "the title is shown as text");
  },
});

Deno.test({
  name:
    "an image whose client file name carries markup is published and shown under its hash, the name nowhere",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    const work = await Deno.makeTempDir({ prefix: "saoe-e2e-" });
    try {
      await using pipeline = await startCliPipeline(t);
      const url = await intakeUrl(pipeline);
      // `saoe submit` sends the file's own name in the multipart part
      const marker = "onload=alert(12)";
      const photo = join(work, `x"><svg ${marker}><script>alert(13)<\\script>.jpg`);
      await Deno.writeFile(photo, sampleJpeg(320, 240));
      const { code, result, stderr } = await submit(t.root, url, [
        "--title",
        "Named",
        "--markdown",
        "A photo with a hostile name.",
        "--image",
        photo,
        "--wait",
      ]);
      assert.equal(code, 0, stderr);
      const session = result.session_id;
      const page = await Deno.readTextFile(result.article);
      assert.match(page, new RegExp(`<img src="/output/img/${session}/[0-9a-f]{64}\\.jpg"`));
      assert.ok(!page.includes(marker), "the client's file name is not in the article");

      // every viewer page that lists or shows the session, as a browser fetches them
      const viewer = String(
        (await pipeline.waitForLine((l) => l.kind === "viewer", "the viewer line")).url,
      );
      for (const path of ["/", "/audit", "/sessions", "/articles", `/output/${session}/`]) {
        const response = await fetch(`${viewer}${path}`);
        const body = await response.text();
        assert.equal(response.status, 200, `${path}: ${body.slice(0, 200)}`);
        assert.ok(!body.includes(marker), `${path} shows the client's file name`);
        assert.ok(!body.includes("alert(13)"), `${path} shows the client's file name`);
      }
      const events = await ledgerEvents(t.home);
      assert.ok(
        events.every((e) => !JSON.stringify(e).includes(marker)),
        "no audit event records the client's file name",
      );
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
