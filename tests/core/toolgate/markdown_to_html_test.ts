import assert from "node:assert/strict";
import { JSDOM } from "jsdom";
import {
  ALLOWED_TAGS,
  markdownToSafeHtml,
  run,
  UnsafeHtmlError,
  verifyArticleHtml,
} from "../../../core/domain/toolgate/tools/markdown_to_html.ts";
import { loadHtmlSanitizer } from "../../../core/services/deployment/html_sanitizer.ts";

/** Payloads from the XSS cheat sheets and DOMPurify's mXSS reports. */
const XSS_CORPUS = [
  "<script>alert(1)</script>",
  "<SCRIPT SRC=//x.example/x.js></SCRIPT>",
  '<img src=x onerror="alert(1)">',
  '<p onclick="alert(1)" onmouseover=alert(1)>x</p>',
  "<body onload=alert(1)>",
  '<a href="javascript:alert(1)">x</a>',
  '<a href="JaVaScRiPt:alert(1)">x</a>',
  '<a href="  javascript:alert(1)">x</a>',
  '<a href="java&#x09;script:alert(1)">x</a>',
  '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
  '<a href="vbscript:msgbox(1)">x</a>',
  "[x](javascript:alert(1))",
  "[x](JAVASCRIPT:alert(1))",
  "[x](data:text/html,<script>alert(1)</script>)",
  "[x](vbscript:msgbox(1))",
  "[x](&#106;avascript:alert(1))",
  "<javascript:alert(1)>",
  "![x](javascript:alert(1))",
  "<svg onload=alert(1)><script>alert(2)</script></svg>",
  '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
  "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
  '<math><mi xlink:href="data:x,<script>alert(4)</script>">',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
  '<iframe src="javascript:alert(1)"></iframe>',
  '<object data="javascript:alert(1)"></object>',
  '<embed src="data:text/html,<script>alert(1)</script>">',
  '<style>@import "javascript:alert(1)";</style>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  "<template><script>alert(1)</script></template>",
  '<a href="https://ok.example" onclick="alert(1)" style="x" data-x="1">ok</a>',
];

const TAG_WITH_HANDLER = /<[^>]*\son[a-z]+\s*=/i;
const TAG_WITH_BAD_URL = /<[^>]*(?:javascript|data|vbscript)\s*:/i;

function assertSafe(html: string, payload: string): void {
  assert.ok(!/<script/i.test(html), `<script survived ${payload}: ${html}`);
  assert.ok(!TAG_WITH_HANDLER.test(html), `an on* attribute survived ${payload}: ${html}`);
  assert.ok(!TAG_WITH_BAD_URL.test(html), `a dangerous URL survived ${payload}: ${html}`);
  // parse it as a browser would and check every element and attribute left
  const doc = new JSDOM(`<body>${html}</body>`).window.document;
  for (const el of doc.body.querySelectorAll("*")) {
    assert.ok(ALLOWED_TAGS.includes(el.localName), `<${el.localName}> survived ${payload}`);
    for (const attr of el.attributes) {
      assert.ok(["href", "rel"].includes(attr.name), `${attr.name} survived ${payload}`);
      if (attr.name === "href") assert.match(attr.value, /^(https?:\/\/|mailto:)/i);
    }
  }
}

Deno.test("markdownToSafeHtml() keeps paragraphs, headings, lists, code blocks and tables", () => {
  const html = markdownToSafeHtml(
    "# Title\n\nSome *em* and **strong** text.\n\n- one\n- two\n\n1. first\n\n" +
      "```ts\nconst a = 1 < 2;\n```\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n> quoted\n\n---\n",
  );
  assert.equal(
    html,
    "<h1>Title</h1>\n<p>Some <em>em</em> and <strong>strong</strong> text.</p>\n" +
      "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>first</li>\n</ol>\n" +
      "<pre><code>const a = 1 &lt; 2;\n</code></pre>\n" +
      "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n" +
      "<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n" +
      "<blockquote>\n<p>quoted</p>\n</blockquote>\n<hr>\n",
  );
});

Deno.test("markdownToSafeHtml() keeps http, https and mailto links with rel noopener noreferrer", () => {
  const html = markdownToSafeHtml(
    "[a](https://a.example/x) [b](http://b.example) [c](mailto:c@d.example) [d](/relative)",
  );
  assert.equal(
    html,
    '<p><a href="https://a.example/x" rel="noopener noreferrer">a</a> ' +
      '<a href="http://b.example" rel="noopener noreferrer">b</a> ' +
      '<a href="mailto:c@d.example" rel="noopener noreferrer">c</a> ' +
      '<a rel="noopener noreferrer">d</a></p>\n',
  );
});

Deno.test("markdownToSafeHtml() leaves no script, handler or dangerous URL for any XSS payload", () => {
  for (const payload of XSS_CORPUS) {
    assertSafe(markdownToSafeHtml(payload), payload);
    assertSafe(markdownToSafeHtml(`para\n\n${payload}\n\nafter`), payload);
  }
});

Deno.test("deployment's DOMPurify pass alone removes every XSS payload given as raw HTML", async () => {
  const sanitize = await loadHtmlSanitizer();
  for (const payload of XSS_CORPUS) assertSafe(sanitize(payload), payload);
  assert.equal(
    sanitize('<a href="https://ok.example" onclick="alert(1)" style="x" data-x="1">ok</a>'),
    '<a href="https://ok.example" rel="noopener noreferrer">ok</a>',
  );
});

Deno.test("the tool's output passes deployment's DOMPurify pass unchanged", async () => {
  const sanitize = await loadHtmlSanitizer();
  const sample = '# T\n\n*a* **b** `c` [d](https://d.example/?x=1&y="2") [e](/rel)\n\n' +
    "1. one\n\n```js\nif (a < b && c) {}\n```\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n> q  \n> r\n";
  for (const input of [sample, ...XSS_CORPUS]) {
    const html = markdownToSafeHtml(input);
    // compared as a browser serialises the same markup (it writes &quot; in text as ")
    const asParsed = new JSDOM(`<body>${html}</body>`).window.document.body.innerHTML;
    assert.equal(sanitize(html), asParsed, `the second layer changed the tool's output: ${input}`);
  }
});

Deno.test("markdownToSafeHtml() drops images, strikethrough, code classes, alignment and titles", () => {
  const html = markdownToSafeHtml(
    '![alt](https://x.example/a.png) ~~gone~~ [t](https://t.example "title")\n\n' +
      "3. three\n\n```python\nx\n```\n\n| a |\n|:-:|\n| b |\n",
  );
  assert.doesNotMatch(html, /<img|<s>|class=|style=|title=|start=/);
  assert.match(html, /<ol>\n<li>three<\/li>/);
  assert.match(html, /<pre><code>x\n<\/code><\/pre>/);
});

Deno.test("verifyArticleHtml() accepts the allowlist and refuses anything outside it", () => {
  verifyArticleHtml(
    '<h2>a &amp; b</h2>\n<p><a href="mailto:x@y.example" rel="noopener noreferrer">m</a><br>\n</p><hr>',
  );
  const refused = [
    "<script>alert(1)</script>",
    '<p onclick="x()">a</p>',
    '<a href="javascript:alert(1)" rel="noopener noreferrer">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="/relative">x</a>',
    '<a rel="opener">x</a>',
    '<a href="https://a.example" href="javascript:x">x</a>',
    "<a href=https://a.example>x</a>",
    "<img src=x>",
    "<P>upper</P>",
    "<p>a < b</p>",
    "<p>a > b</p>",
    "<p>unclosed",
    "<p><em>crossed</p></em>",
    "</p>",
    "<br/>",
    "<!-- c -->",
    '<code class="language-js">x</code>',
    "<p >x</p>",
  ];
  for (const html of refused) {
    assert.throws(() => verifyArticleHtml(html), UnsafeHtmlError, `accepted: ${html}`);
  }
});

Deno.test("run() refuses arguments and input that is not UTF-8", async () => {
  await assert.rejects(run({ html: true }, new Uint8Array()), TypeError);
  await assert.rejects(run({}, new Uint8Array([0xff, 0xfe, 0x80])), TypeError);
  const out = await run({}, new TextEncoder().encode("hi"));
  assert.equal(out.media_type, "text/html; charset=utf-8");
  assert.equal(new TextDecoder().decode(out.bytes), "<p>hi</p>\n");
});
