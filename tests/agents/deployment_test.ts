/**
 * deployment as a real process: it joins a session's parts, waits for every
 * announced image, publishes once (images verified against their signed SHA-256
 * and copied, body re-sanitised, page written atomically) and never rewrites a
 * published page.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { sessionDir } from "../../core/domain/home/layout.ts";
import {
  createTestHome,
  deadLetters,
  explained,
  inject,
  type RunningAgent,
  startAgent,
  type TestHome,
} from "./_harness.ts";

const OPTS = { sanitizeOps: false, sanitizeResources: false };

async function withDeployment(fn: (th: TestHome, agent: RunningAgent) => Promise<void>) {
  const th = await createTestHome();
  const agent = await startAgent(th, "deployment");
  try {
    await explained([agent], () => fn(th, agent));
  } finally {
    await agent.stop();
    await th.dispose();
  }
}

function article(th: TestHome, session: string, payload: Record<string, unknown>) {
  return inject(th, {
    from: "text_formatter",
    to: "deployment",
    template: "formatted_article",
    payload: { title: "T", html: "<p>x</p>\n", image_count: 0, ...payload } as never,
    sessionId: session,
  });
}

/** Stages `bytes` in media/<session>/ as image_filter would; returns the image part. */
async function stageMedia(th: TestHome, session: string, bytes: Uint8Array<ArrayBuffer>) {
  const sha = await sha256Hex(bytes);
  const folder = sessionDir(th.home, "media", session);
  await Deno.mkdir(folder, { recursive: true });
  await Deno.writeFile(join(folder, `${sha}.png`), bytes);
  return { file: `${sha}.png`, sha256: sha, media_type: "image/png", width: 40, height: 30 };
}

function image(th: TestHome, session: string, part: Record<string, unknown>, index = 0) {
  return inject(th, {
    from: "image_filter",
    to: "deployment",
    template: "sanitized_image",
    payload: { ...part, index } as never,
    sessionId: session,
  });
}

function pagePath(th: TestHome, session: string): string {
  return join(sessionDir(th.home, "output", session), "index.html");
}

const PNG_BYTES = () => crypto.getRandomValues(new Uint8Array(256));

Deno.test(
  "deployment publishes a text-only article as a complete page and re-sanitises its body",
  OPTS,
  async () => {
    await withDeployment(async (th, agent) => {
      const session = crypto.randomUUID();
      // what a compromised text_formatter could send: deployment must clean it again
      const sent = await article(th, session, {
        title: `<script>alert(1)</script>"Quotes" & more`,
        html: `<h2>Ok</h2><p onclick="steal()">para<script>alert(2)</script></p>` +
          `<img src=x onerror=alert(3)><a href="javascript:alert(4)">j</a>` +
          `<a href="data:text/html,x">d</a><iframe src="https://evil.example"></iframe>` +
          `<table><tr><td>cell</td></tr></table>`,
      });
      const published = await agent.waitForEvent((e) => e.type === "published");
      assert.equal(published.session_id, session);
      assert.equal(published.envelope_id, sent.envelope_id);
      assert.deepEqual(published.detail, {
        path: `output/${session}/index.html`,
        images: [],
        files: { "index.html": await sha256Hex(await Deno.readFile(pagePath(th, session))) },
      });
      const page = await Deno.readTextFile(pagePath(th, session));
      assert.match(page, /^<!doctype html>\n/);
      assert.match(page, /<meta charset="utf-8">/);
      assert.match(
        page,
        /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src 'self'[^"]*">/,
      );
      assert.match(
        page,
        /<title>&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;Quotes&quot; &amp; more<\/title>/,
      );
      assert.match(page, /<h2>Ok<\/h2><p>para<\/p>/);
      assert.match(page, /<td>cell<\/td>/);
      assert.doesNotMatch(page, /<script/i);
      assert.doesNotMatch(page, /\son\w+\s*=/i);
      assert.doesNotMatch(page, /javascript:|data:/i);
      assert.doesNotMatch(page, /<iframe|<img/i);
      assert.deepEqual(await deadLetters(th, "deployment"), []);
    });
  },
);

Deno.test(
  "deployment waits for the announced image, publishes once, copies it and never rewrites the page",
  OPTS,
  async () => {
    await withDeployment(async (th, agent) => {
      const session = crypto.randomUUID();
      const first = await article(th, session, { title: "With image", image_count: 1 });
      await agent.waitForEvent((e) =>
        e.type === "validated" && e.envelope_id === first.envelope_id
      );
      // deployment handles one envelope at a time: once it took the next one (another image
      // session's article, which waits too), the first one's handling had ended
      const next = await article(th, crypto.randomUUID(), { title: "Also waits", image_count: 1 });
      await agent.waitForEvent((e) => e.type === "validated" && e.envelope_id === next.envelope_id);
      // an image session never publishes text-only
      assert.ok(!agent.events.some((e) => e.type === "published"));
      await assert.rejects(Deno.lstat(pagePath(th, session)), Deno.errors.NotFound);

      const bytes = PNG_BYTES();
      const part = await stageMedia(th, session, bytes);
      await image(th, session, part);
      const published = await agent.waitForEvent((e) => e.type === "published");
      const copy = join(sessionDir(th.home, "output", session), "img", part.file);
      assert.deepEqual(published.detail, {
        path: `output/${session}/index.html`,
        images: [part.file],
        // the SHA-256 of exactly the bytes written
        files: {
          "index.html": await sha256Hex(await Deno.readFile(pagePath(th, session))),
          [`img/${part.file}`]: await sha256Hex(await Deno.readFile(copy)),
        },
      });
      assert.deepEqual(await Deno.readFile(copy), bytes);
      const page = await Deno.readTextFile(pagePath(th, session));
      assert.ok(
        page.includes(
          `<img src="/output/img/${session}/${part.file}" alt="" width="40" height="30">`,
        ),
      );
      const before = await Deno.stat(pagePath(th, session));

      // the same article re-delivered under a new envelope after publication
      const again = await article(th, session, { title: "With image", image_count: 1 });
      await agent.waitForEvent((e) =>
        e.type === "handler_error" && e.envelope_id === again.envelope_id
      );
      const dead = await deadLetters(th, "deployment");
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.reason?.ids.envelope_id, again.envelope_id);
      assert.match(dead[0]!.reason?.message ?? "", /already published/);
      const after = await Deno.stat(pagePath(th, session));
      assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
      assert.equal(await Deno.readTextFile(pagePath(th, session)), page);
      assert.equal(agent.events.filter((e) => e.type === "published").length, 1);
    });
  },
);

Deno.test(
  "deployment publishes when the image arrives first and refuses media whose bytes do not match the signed digest",
  OPTS,
  async () => {
    await withDeployment(async (th, agent) => {
      const session = crypto.randomUUID();
      const part = await stageMedia(th, session, PNG_BYTES());
      await image(th, session, part);
      const sent = await article(th, session, { title: "Image first", image_count: 1 });
      const published = await agent.waitForEvent((e) => e.type === "published");
      assert.equal(published.envelope_id, sent.envelope_id);
      assert.ok((await Deno.readTextFile(pagePath(th, session))).includes(part.file));

      // media/ swapped after image_filter signed its digest
      const tampered = crypto.randomUUID();
      const good = await stageMedia(th, tampered, PNG_BYTES());
      await Deno.writeFile(join(sessionDir(th.home, "media", tampered), good.file), PNG_BYTES());
      await image(th, tampered, good);
      const last = await article(th, tampered, { image_count: 1 });
      const failed = await agent.waitForEvent((e) =>
        e.type === "handler_error" && e.envelope_id === last.envelope_id
      );
      assert.match(String(failed.detail?.message), /do not hash to the SHA-256/);
      await assert.rejects(Deno.lstat(pagePath(th, tampered)), Deno.errors.NotFound);
      assert.equal(agent.events.filter((e) => e.type === "published").length, 1);
    });
  },
);

Deno.test("deployment refuses an image whose media file is a planted symlink", OPTS, async () => {
  await withDeployment(async (th, agent) => {
    const session = crypto.randomUUID();
    const secret = join(th.tmp, "secret.png");
    const bytes = PNG_BYTES();
    await Deno.writeFile(secret, bytes);
    const sha = await sha256Hex(bytes);
    const folder = sessionDir(th.home, "media", session);
    await Deno.mkdir(folder, { recursive: true });
    await Deno.symlink(secret, join(folder, `${sha}.png`));
    await image(th, session, {
      file: `${sha}.png`,
      sha256: sha,
      media_type: "image/png",
      width: 1,
      height: 1,
    });
    const last = await article(th, session, { image_count: 1 });
    const failed = await agent.waitForEvent((e) =>
      e.type === "handler_error" && e.envelope_id === last.envelope_id
    );
    assert.match(String(failed.detail?.message), /symlink/);
    await assert.rejects(
      Deno.lstat(join(sessionDir(th.home, "output", session), "img", `${sha}.png`)),
      Deno.errors.NotFound,
    );
  });
});
