import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { homeLayout, sessionDir } from "../../core/domain/home/layout.ts";
import { loadHtmlSanitizer } from "../../core/services/deployment/html_sanitizer.ts";
import { JoinStore } from "../../core/services/deployment/join_state.ts";
import { renderArticlePage } from "../../core/services/deployment/page.ts";
import { joinPart } from "../../core/services/deployment/output.ts";
import { FakeClock } from "../../core/devtools/testing/fake_clock.ts";
import { ALLOWED_TAGS } from "../../core/domain/toolgate/tools/markdown_to_html.ts";
import {
  BODY_TAGS,
  checkArticleHtml,
  summarizeArticle,
} from "../../core/services/viewer/article_check.ts";
import { PNG_BYTES } from "./_fixtures.ts";

const OWN = "0f8fad5b-d9cb-469f-a165-70867728950e";
const OTHER = "1c6b1d3e-5a2f-4c7e-9b1d-2f3e4a5b6c7d";
const FILE = `${"ab".repeat(32)}.png`;

function page(body: string): string {
  return renderArticlePage({ session: OWN, title: "T", bodyHtml: body, images: [] });
}

Deno.test("the viewer's article allowlist is exactly the sanitiser's", () => {
  assert.deepEqual([...BODY_TAGS].sort(), [...ALLOWED_TAGS].sort());
});

Deno.test("checkArticleHtml() accepts every page renderArticlePage writes and lists its images", () => {
  const html = renderArticlePage({
    session: OWN,
    title: `<script>"x"</script>`,
    bodyHtml:
      '<h2>a</h2><p>x &lt;b&gt; <a href="https://example.org/?a=1&amp;b=2" rel="noopener noreferrer">l</a></p><pre><code>&lt;img&gt;</code></pre><table><thead><tr><th>h</th></tr></thead><tbody><tr><td>d</td></tr></tbody></table><hr><br>',
    images: [{ file: FILE, width: 3, height: 2 }, {
      file: `${"cd".repeat(32)}.jpg`,
      width: 1,
      height: 1,
    }],
  });
  assert.deepEqual(checkArticleHtml(html, OWN), {
    ok: true,
    images: [FILE, `${"cd".repeat(32)}.jpg`],
  });
});

Deno.test("deployment's publication path renders images of its own session only", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir());
  try {
    const home = homeLayout(root);
    for (const f of ["media", "output"] as const) await Deno.mkdir(home[f]);
    const store = new JoinStore(join(root, "store"));
    const sha = await sha256Hex(PNG_BYTES);
    await Deno.mkdir(sessionDir(home, "media", OWN));
    await Deno.writeFile(join(sessionDir(home, "media", OWN), `${sha}.png`), PNG_BYTES);
    const common = {
      home,
      store,
      session: OWN,
      sanitizer: loadHtmlSanitizer,
      clock: new FakeClock(Date.parse("2026-01-01T00:00:00Z")),
    };
    await joinPart({
      ...common,
      part: {
        kind: "article",
        part: {
          envelope_id: crypto.randomUUID(),
          title: "T",
          // an author's own reference to another session's image is not an allowed element
          html: `<p>x</p><img src="/output/img/${OTHER}/${sha}.png">`,
          image_count: 1,
        },
      },
    });
    const done = await joinPart({
      ...common,
      part: {
        kind: "image",
        part: {
          envelope_id: crypto.randomUUID(),
          index: 0,
          file: `${sha}.png`,
          sha256: sha,
          media_type: "image/png",
          width: 1,
          height: 1,
        },
      },
    });
    assert.equal(done.status, "published");
    const html = await Deno.readTextFile(join(sessionDir(home, "output", OWN), "index.html"));
    assert.deepEqual(checkArticleHtml(html, OWN), { ok: true, images: [`${sha}.png`] });
    assert.ok(!html.includes(OTHER));
    assert.equal(checkArticleHtml(html, OTHER).ok, false, "the page is bound to its session");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

const REFUSED: [string, string][] = [
  ["another session's image", `<figure><img src="/output/img/${OTHER}/${FILE}" alt=""></figure>`],
  ["an entity-encoded foreign path", `<img src="&#47;output&#47;img&#47;${OTHER}&#47;${FILE}">`],
  ["a relative path to another session", `<img src="../img/${OTHER}/${FILE}">`],
  ["an encoded dot segment", `<img src="/output/img/${OWN}/%2e%2e/${OTHER}/${FILE}">`],
  ["a srcset", `<img src="/output/img/${OWN}/${FILE}" srcset="/output/img/${OTHER}/${FILE} 2x">`],
  ["a script", "<script>alert(1)</script>"],
  ["an event handler", '<p onclick="alert(1)">x</p>'],
  ["an unquoted event handler", "<p onmouseover=alert(1)>x</p>"],
  ["a javascript: link", '<a href="javascript:alert(1)">x</a>'],
  ["an entity-encoded javascript: link", '<a href="&#106;avascript:alert(1)">x</a>'],
  ["a data: link", '<a href="data:text/html,x">x</a>'],
  ["an svg", "<svg><image href=x /></svg>"],
  ["an iframe", '<iframe src="/output/x/"></iframe>'],
  ["a style element", "<style>p{background:url(/output/img/x)}</style>"],
  ["a style attribute", '<p style="background:url(x)">x</p>'],
  ["a meta refresh", '<meta http-equiv="refresh" content="0;url=/x">'],
  ["a base element", '<base href="/output/img/x/">'],
  [
    "a duplicate attribute",
    `<img src="/output/img/${OWN}/${FILE}" src="/output/img/${OTHER}/${FILE}">`,
  ],
  ["an unclosed comment", "<!-- <img src=x>"],
  ["a malformed tag", '<p title="x>y'],
  ["a processing instruction", "<?xml-stylesheet href='x'?>"],
  ["a self-closed paragraph", "<p/>"],
  ["a mutation-XSS payload", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"],
];

for (const [what, body] of REFUSED) {
  Deno.test(`checkArticleHtml() refuses a page with ${what}`, () => {
    const result = checkArticleHtml(page(body), OWN);
    assert.equal(result.ok, false);
    if (!result.ok) assert.ok(!result.problem.includes("<"), "the problem is fixed text");
  });
}

Deno.test("checkArticleHtml() treats a lone < as text, as a browser does", () => {
  assert.equal(checkArticleHtml(page("<p>1 < 2 and 3 <= 4</p>"), OWN).ok, true);
});

Deno.test("summarizeArticle() gives decoded text without the title, figures or markup", () => {
  const html = renderArticlePage({
    session: OWN,
    title: "A & <B>",
    bodyHtml: "<p>First &amp; <em>second</em></p><ul><li>one</li><li>two</li></ul>",
    images: [{ file: FILE, width: 1, height: 1 }],
  });
  const check = checkArticleHtml(html, OWN);
  assert.ok(check.ok);
  const summary = summarizeArticle(html, check.ok ? check.images : []);
  assert.deepEqual(summary, {
    title: "A & <B>",
    preview: "First & second one two",
    thumbnail: FILE,
  });
  assert.equal(summarizeArticle(html, [], 5).preview, "Firs…");
});
