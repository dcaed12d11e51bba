import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../../../core/primitives/crypto/bytes.ts";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import { homeLayout, sessionDir } from "../../../core/domain/home/layout.ts";
import { loadHtmlSanitizer } from "../../../core/services/deployment/html_sanitizer.ts";
import { JoinStore } from "../../../core/services/deployment/join_state.ts";
import { joinPart, type Part } from "../../../core/services/deployment/output.ts";
import { renderArticlePage } from "../../../core/services/deployment/page.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";

async function setup() {
  const root = await Deno.realPath(await Deno.makeTempDir());
  const home = homeLayout(root);
  for (const f of ["media", "output"] as const) await Deno.mkdir(home[f]);
  const store = new JoinStore(join(root, "store"));
  return { home, store, clock: new FakeClock(Date.parse("2026-01-01T00:00:00Z")) };
}

function article(html: string, image_count = 0): Part {
  return {
    kind: "article",
    part: { envelope_id: crypto.randomUUID(), title: "T", html, image_count },
  };
}

Deno.test("joinPart() publishes a complete session once, re-sanitising the body", async () => {
  const { home, store, clock } = await setup();
  try {
    const session = crypto.randomUUID();
    const common = { home, store, session, sanitizer: loadHtmlSanitizer, clock };
    const outcome = await joinPart({
      ...common,
      part: article('<p onclick="x()">hi<script>alert(1)</script></p>'),
    });
    const pageFile = join(sessionDir(home, "output", session), "index.html");
    assert.deepEqual(outcome, {
      status: "published",
      publication: {
        path: `output/${session}/index.html`,
        images: [],
        // the SHA-256 of exactly the bytes written, which the published event carries
        files: { "index.html": await sha256Hex(await Deno.readFile(pageFile)) },
      },
    });
    const page = await Deno.readTextFile(pageFile);
    assert.ok(page.includes("<p>hi</p>"));
    assert.doesNotMatch(page, /<script|onclick/);
    const state = await store.load(session);
    assert.equal(state.published?.at, "2026-01-01T00:00:00.000Z");
    await assert.rejects(
      joinPart({ ...common, part: article('<p onclick="x()">hi<script>alert(1)</script></p>') }),
      (e: unknown) => isSaoeError(e) && e.code === "replay",
    );
    assert.equal(
      await Deno.readTextFile(join(sessionDir(home, "output", session), "index.html")),
      page,
    );
  } finally {
    await Deno.remove(home.root, { recursive: true });
  }
});

Deno.test("joinPart() completes a publication a crash interrupted without rewriting the page", async () => {
  const { home, store, clock } = await setup();
  try {
    const session = crypto.randomUUID();
    // the page was written, then the process died before the mark was saved
    await Deno.mkdir(sessionDir(home, "output", session));
    const page = join(sessionDir(home, "output", session), "index.html");
    const written = renderArticlePage({
      session,
      title: "T",
      bodyHtml: (await loadHtmlSanitizer())("<p>x</p>"),
      images: [],
    });
    await Deno.writeTextFile(page, written);
    const before = await Deno.stat(page);
    const outcome = await joinPart({
      home,
      store,
      session,
      part: article("<p>x</p>"),
      sanitizer: loadHtmlSanitizer,
      clock,
    });
    assert.equal(outcome.status, "published");
    assert.equal(await Deno.readTextFile(page), written);
    assert.equal((await Deno.stat(page)).ino, before.ino, "the page is not rewritten");
    if (outcome.status === "published") {
      assert.deepEqual(outcome.publication.files, {
        "index.html": await sha256Hex(new TextEncoder().encode(written)),
      });
    }
    assert.notEqual((await store.load(session)).published, undefined);
  } finally {
    await Deno.remove(home.root, { recursive: true });
  }
});

Deno.test("joinPart() refuses to vouch for a page a crash left that is not the page it renders", async () => {
  const { home, store, clock } = await setup();
  try {
    const session = crypto.randomUUID();
    // written by someone else between the crash and the restart
    await Deno.mkdir(sessionDir(home, "output", session));
    const page = join(sessionDir(home, "output", session), "index.html");
    await Deno.writeTextFile(page, "<!doctype html><p>planted</p>");
    await assert.rejects(
      joinPart({
        home,
        store,
        session,
        part: article("<p>x</p>"),
        sanitizer: loadHtmlSanitizer,
        clock,
      }),
      (e: unknown) => isSaoeError(e) && e.code === "output_mismatch",
    );
    assert.equal(await Deno.readTextFile(page), "<!doctype html><p>planted</p>");
    assert.equal((await store.load(session)).published, undefined, "not marked published");
  } finally {
    await Deno.remove(home.root, { recursive: true });
  }
});

Deno.test("joinPart() keeps an image session waiting, then copies the verified image", async () => {
  const { home, store, clock } = await setup();
  try {
    const session = crypto.randomUUID();
    const common = { home, store, session, sanitizer: loadHtmlSanitizer, clock };
    const waiting = await joinPart({ ...common, part: article("<p>x</p>", 1) });
    assert.deepEqual(waiting, { status: "waiting", article: true, images: 0, expected: 1 });
    const bytes = new TextEncoder().encode("png");
    const sha = await sha256Hex(bytes);
    await Deno.mkdir(sessionDir(home, "media", session));
    await Deno.writeFile(join(sessionDir(home, "media", session), `${sha}.png`), bytes);
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
          width: 3,
          height: 2,
        },
      },
    });
    assert.equal(done.status, "published");
    const copy = join(sessionDir(home, "output", session), "img", `${sha}.png`);
    assert.deepEqual(await Deno.readFile(copy), bytes);
    const pageFile = join(sessionDir(home, "output", session), "index.html");
    if (done.status === "published") {
      assert.deepEqual(done.publication.files, {
        "index.html": await sha256Hex(await Deno.readFile(pageFile)),
        [`img/${sha}.png`]: sha,
      });
    }
  } finally {
    await Deno.remove(home.root, { recursive: true });
  }
});

Deno.test("joinPart() reports the publication again when the envelope that completed it is resumed, and refuses any other part", async () => {
  const { home, store, clock } = await setup();
  try {
    const session = crypto.randomUUID();
    const common = { home, store, session, sanitizer: loadHtmlSanitizer, clock };
    const part = {
      kind: "article",
      part: { envelope_id: crypto.randomUUID(), title: "T", html: "<p>once</p>", image_count: 0 },
    } satisfies Part;
    const first = await joinPart({ ...common, part });
    assert.equal(first.status, "published");
    const pageFile = join(sessionDir(home, "output", session), "index.html");
    const page = await Deno.readFile(pageFile);
    // killed after the mark, before its report: the same envelope is handled again
    const again = await joinPart({ ...common, part });
    assert.deepEqual(again, first);
    assert.deepEqual(await Deno.readFile(pageFile), page);
    // the same content under another envelope is not a resume
    const other: Part = {
      kind: "article",
      part: { ...part.part, envelope_id: crypto.randomUUID() },
    };
    await assert.rejects(
      joinPart({ ...common, part: other }),
      (e: unknown) => isSaoeError(e) && e.code === "replay",
    );
    // a page replaced meanwhile is never reported as published
    await Deno.writeTextFile(pageFile, "<p>replaced</p>");
    await assert.rejects(
      joinPart({ ...common, part }),
      (e: unknown) => isSaoeError(e) && e.code === "output_mismatch",
    );
  } finally {
    await Deno.remove(home.root, { recursive: true });
  }
});
