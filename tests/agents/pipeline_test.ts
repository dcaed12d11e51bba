/**
 * The publishing half of the pipeline as real processes chained through their
 * inboxes: planner → text_formatter → deployment, and with an image also
 * planner → image_filter → deployment. Intents are injected as sanitization
 * would send them; everything after that is the agents' own work.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { JSDOM } from "jsdom";
import jpeg from "jpeg-js";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { sessionDir } from "../../core/domain/home/layout.ts";
import {
  createTestHome,
  explained,
  inject,
  type RunningAgent,
  startAgents,
  type TestHome,
} from "./_harness.ts";

const OPTS = { sanitizeOps: false, sanitizeResources: false };

const XSS_TITLE = `</title><script>alert(1)</script><img src=x onerror=alert(2)>"'&`;
const XSS_BODY = [
  "# Heading <script>alert(1)</script>",
  "",
  "<script>alert('raw')</script>",
  "",
  "<img src=x onerror=alert(1)>",
  "",
  "<svg onload=alert(1)><circle/></svg>",
  "",
  "<iframe src=javascript:alert(1)></iframe>",
  "",
  "<details open ontoggle=alert(1)>",
  "",
  '<a href="javascript:alert(1)">raw link</a>',
  "",
  '<div style="background:url(javascript:alert(1))">styled</div>',
  "",
  "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
  "",
  "[js](javascript:alert(1)) [mixed](JaVaScRiPt:alert(1)) [entity](&#106;avascript:alert(1))",
  "",
  "[vb](vbscript:msgbox(1)) [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "",
  "![image](javascript:alert(1)) ![pixel](data:image/png;base64,iVBORw0KGgo=)",
  "",
  "<javascript:alert(1)> <data:text/html,<script>alert(1)</script>>",
  "",
  '[title](https://example.org "x\\" onmouseover=\\"alert(1)")',
  "",
  '"><script>alert(1)</script><body onload=alert(1)>',
  "",
  "[fine](https://example.org/ok) and [mail](mailto:a@example.org)",
  "",
].join("\n");

const URL_ATTRS = ["href", "src", "action", "formaction", "xlink:href", "srcset", "background"];

/** Every way the page could run script or load a script/data URL, found by parsing it. */
function hazards(page: string): string[] {
  const found: string[] = [];
  if (/<script/i.test(page)) found.push("a <script> tag in the markup");
  const document = new JSDOM(page).window.document;
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (["script", "iframe", "object", "embed", "svg", "math", "style", "form"].includes(tag)) {
      found.push(`element <${tag}>`);
    }
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) found.push(`handler ${name} on <${tag}>`);
      if (name === "style") found.push(`style attribute on <${tag}>`);
      if (URL_ATTRS.includes(name) && /^\s*(javascript|data|vbscript):/i.test(attr.value)) {
        found.push(`${name}=${attr.value} on <${tag}>`);
      }
    }
  }
  return found;
}

async function withAgents(
  names: string[],
  fn: (th: TestHome, agents: Map<string, RunningAgent>) => Promise<void>,
) {
  const th = await createTestHome();
  const started = await startAgents(th, names);
  try {
    await explained(started, () => fn(th, new Map(started.map((a) => [a.name, a]))));
  } finally {
    await Promise.all(started.map((a) => a.stop()));
    await th.dispose();
  }
}

Deno.test(
  "an XSS corpus in title and body leaves no script, handler or javascript:/data: URL in the published article",
  OPTS,
  async () => {
    await withAgents(["planner", "text_formatter", "deployment"], async (th, agents) => {
      const session = crypto.randomUUID();
      await inject(th, {
        from: "sanitization",
        to: "planner",
        template: "blog_article_intent",
        payload: { title: XSS_TITLE, markdown: XSS_BODY, image_count: 0 },
        sessionId: session,
      });
      const published = await agents.get("deployment")!.waitForEvent((e) =>
        e.type === "published" && e.session_id === session
      );
      assert.equal((published.detail as { path: string }).path, `output/${session}/index.html`);
      const page = await Deno.readTextFile(
        join(sessionDir(th.home, "output", session), "index.html"),
      );
      assert.deepEqual(hazards(page), []);
      // the title is text: escaped in <title> and <h1>, not interpreted
      const document = new JSDOM(page).window.document;
      assert.equal(document.title, XSS_TITLE);
      assert.equal(document.querySelector("h1")?.textContent, XSS_TITLE);
      // the good links survive, with their safe targets only
      const hrefs = [...document.querySelectorAll("a")].map((a) => a.getAttribute("href"));
      assert.ok(hrefs.includes("https://example.org/ok"));
      assert.ok(hrefs.includes("mailto:a@example.org"));
      for (const href of hrefs) {
        assert.ok(href === null || /^(https?:\/\/|mailto:)/.test(href), `unexpected href ${href}`);
      }
      assert.match(
        document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute(
          "content",
        ) ?? "",
        /^default-src 'none'; img-src 'self'; style-src 'self'/,
      );
    });
  },
);

Deno.test(
  "an article with an image flows through planner, text_formatter, image_filter and deployment",
  OPTS,
  async () => {
    await withAgents(
      ["planner", "text_formatter", "image_filter", "deployment"],
      async (th, agents) => {
        const session = crypto.randomUUID();
        const width = 2000;
        const height = 1000;
        const raw = new Uint8Array(
          jpeg.encode({
            width,
            height,
            data: new Uint8Array(width * height * 4).fill(200),
          }, 70).data,
        );
        const sha = await sha256Hex(raw);
        const uploads = sessionDir(th.home, "uploads", session);
        await Deno.mkdir(uploads, { recursive: true });
        await Deno.writeFile(join(uploads, `${sha}.jpg`), raw);

        await inject(th, {
          from: "sanitization",
          to: "planner",
          template: "blog_article_intent",
          payload: { title: "Photo", markdown: "A *photo*:", image_count: 1 },
          sessionId: session,
        });
        await inject(th, {
          from: "sanitization",
          to: "planner",
          template: "image_process_intent",
          payload: { upload_file: `${sha}.jpg`, sha256: sha, media_type: "image/jpeg", index: 0 },
          sessionId: session,
        });
        const deployment = agents.get("deployment")!;
        const published = await deployment.waitForEvent((e) =>
          e.type === "published" && e.session_id === session
        );
        const [file] = (published.detail as { images: string[] }).images;
        assert.ok(file !== undefined && /^[0-9a-f]{64}\.jpg$/.test(file));
        const copy = await Deno.readFile(join(sessionDir(th.home, "output", session), "img", file));
        assert.equal(`${await sha256Hex(copy)}.jpg`, file);
        const page = await Deno.readTextFile(
          join(sessionDir(th.home, "output", session), "index.html"),
        );
        // resized to the planner's resize_max of 1600 on the long edge
        assert.ok(
          page.includes(
            `<img src="/output/img/${session}/${file}" alt="" width="1600" height="800">`,
          ),
          page,
        );
        assert.match(page, /<p>A <em>photo<\/em>:<\/p>/);
        // each tool ran once, named by the agent that ran it
        for (const name of ["text_formatter", "image_filter"]) {
          const ran = agents.get(name)!.events.filter((e) =>
            e.type === "tool_executed" && e.session_id === session
          );
          assert.equal(ran.length, 1, `${name} tool runs`);
        }
        assert.equal(deployment.events.filter((e) => e.type === "published").length, 1);
      },
    );
  },
);
