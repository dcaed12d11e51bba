/**
 * The viewer over real HTTP, run as the supervisor runs it: a sandboxed process
 * with its capset's exact flags, on a home whose ledger holds a published
 * session (with the `published` event vouching for its page and images), a
 * rejected one whose details carry an XSS corpus, and enough records to page
 * through; `output/` also holds a page no `published` event vouches for.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { EventFields } from "../../core/domain/ledger/events.ts";
import { statusPath } from "../../core/domain/home/layout.ts";
import { waitFor } from "../supervisor/_harness.ts";
import {
  assertSecurityHeaders,
  get,
  JPEG_BYTES,
  plantArticle,
  PNG_BYTES,
  processTest,
  publishedEvent,
  rawRequest,
  rowSeqs,
  seedLedger,
  startViewerPipeline,
} from "./_fixtures.ts";

const PUBLISHED = "0f8fad5b-d9cb-469f-a165-70867728950e";
const REJECTED = "1c6b1d3e-5a2f-4c7e-9b1d-2f3e4a5b6c7d";
const FOREIGN = "2d7c2e4f-6b3a-4d8f-8c2e-3a4b5c6d7e8f";
const MISFORMED = "3e8d3f5a-7c4b-4e9a-9d3f-4b5c6d7e8f9a";
const UNKNOWN = "4f9e4a6b-8d5c-4fab-8e4a-5c6d7e8f9a0b";
const MARKER = "zq9viewermarker";

/** Payloads an attacker could get into a ledger detail string. */
const XSS_CORPUS = [
  `<script>window.__xss=1</script>${MARKER}`,
  `"><img src=x onerror="window.__xss=1">`,
  `'><svg onload=window.__xss=1>`,
  `javascript:window.__xss=1`,
  `<a href="javascript:window.__xss=1">x</a>`,
  `<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>`,
  `<noscript><p title="</noscript><img src=x onerror=window.__xss=1>">`,
  `</td></tr></tbody></table><iframe srcdoc="<script>parent.__xss=1</script>">`,
  `\u2028\u2029</script><script>window.__xss=1</script>`,
];

function events(published: EventFields, misformed: EventFields): EventFields[] {
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString();
  const out: EventFields[] = [];
  for (let i = 0; i < 240; i++) {
    out.push({ type: "agent_started", agent: "supervisor", at: at(i), detail: { n: i } });
  }
  const s = PUBLISHED;
  out.push(
    { type: "intake_accepted", agent: "intake", session_id: s, at: at(300) },
    { type: "validated", agent: "sanitization", session_id: s, at: at(310) },
    { type: "forwarded", agent: "sanitization", session_id: s, at: at(315) },
    { type: "validated", agent: "planner", session_id: s, at: at(320) },
    { type: "validated", agent: "deployment", session_id: s, at: at(400) },
    { ...published, at: at(450) },
  );
  XSS_CORPUS.forEach((payload, i) =>
    out.push({
      type: "rejected",
      agent: "sanitization",
      session_id: REJECTED,
      envelope_id: crypto.randomUUID(),
      reason: "bad_signature",
      at: at(500 + i),
      detail: { message: payload, [payload]: [payload, { nested: payload }] },
    })
  );
  // after every seq the steps count on
  out.push({ ...misformed, at: at(600) });
  return out;
}

function assertInert(html: string, what: string): void {
  // only the viewer's own elements: an injected one would add a tag or a handler
  const allowed = new Set(
    "html head meta title link script body header span nav a main h1 h2 form label input select option button p table thead tbody tr th td div dl dt dd section ul li img small code"
      .split(" "),
  );
  for (const m of html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)) {
    assert.ok(allowed.has(m[1]!.toLowerCase()), `${what}: unexpected element <${m[1]}>`);
  }
  assert.equal(html.match(/<script/gi)?.length, 1, `${what}: one script element`);
  assert.match(html, /<script src="\/static\/viewer\.js" defer><\/script>/);
  // escaped text holds no "<": every tag below is one the viewer wrote
  for (const [tag] of html.matchAll(/<[a-zA-Z][^>]*>/g)) {
    assert.doesNotMatch(tag, /\son[a-z]+\s*=/i, `${what}: an event handler in ${tag}`);
    assert.doesNotMatch(tag, /\sstyle\s*=/i, `${what}: a style attribute in ${tag}`);
    assert.doesNotMatch(tag, /javascript:/i, `${what}: a javascript: URL in ${tag}`);
    assert.doesNotMatch(
      tag,
      /^<img(?![^>]*class="thumb")/i,
      `${what}: an image outside thumbnails`,
    );
  }
}

Deno.test({
  name:
    "the viewer process serves every page with security headers, inert fields and per-session images",
  ...processTest,
  async fn(t) {
    let images: string[] = [];
    await using v = await startViewerPipeline({
      async prepare(home) {
        images = await plantArticle(home, {
          session: PUBLISHED,
          title: `Hello <b>${MARKER}</b>`,
          bodyHtml: "<p>Body text with <em>emphasis</em>.</p>",
          images: [PNG_BYTES, JPEG_BYTES],
        });
        // a page that shows another session's image, as a deployment bug could write it:
        // its published event vouches for its bytes, the format check refuses it
        const foreignImage =
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title></head><body><article><h1>x</h1><figure><img src="/output/img/${PUBLISHED}/${
            images[0]
          }" alt=""></figure></article></body></html>`;
        await Deno.mkdir(join(home.home.output, MISFORMED), { recursive: true });
        await Deno.writeTextFile(join(home.home.output, MISFORMED, "index.html"), foreignImage);
        // the same page planted where no published event vouches for it
        await Deno.mkdir(join(home.home.output, FOREIGN), { recursive: true });
        await Deno.writeTextFile(join(home.home.output, FOREIGN, "index.html"), foreignImage);
        await seedLedger(
          home,
          events(await publishedEvent(home, PUBLISHED), await publishedEvent(home, MISFORMED)),
        );
      },
    });
    const { base, port } = v;

    await t.step("every page answers 200 with all security headers", async () => {
      const pages = [
        "/",
        "/audit",
        "/audit?type=rejected&agent=sanitization&reason=bad_signature&limit=5",
        `/audit?session=${REJECTED}`,
        "/sessions",
        "/sessions?state=published",
        `/sessions/${PUBLISHED}`,
        "/articles",
        "/ledger",
        "/pipeline",
        `/output/${PUBLISHED}/`,
        `/output/img/${PUBLISHED}/${images[0]}`,
        "/static/viewer.js",
        "/static/viewer.css",
      ];
      for (const path of pages) {
        const res = await get(base, path);
        assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 300)}`);
        assertSecurityHeaders(res.headers, path);
      }
      const head = await fetch(`${base}/audit`, { method: "HEAD" });
      await head.body?.cancel();
      assert.equal(head.status, 200);
      assertSecurityHeaders(head.headers, "HEAD /audit");
      const sse = await fetch(`${base}/events`);
      assert.equal(sse.status, 200);
      assert.match(sse.headers.get("content-type") ?? "", /^text\/event-stream/);
      assertSecurityHeaders(sse.headers, "/events");
      await sse.body?.cancel();
    });

    await t.step(
      "error pages (400, 403, 404, 405, 421) carry the security headers too",
      async () => {
        const cases: [string, RequestInit, number][] = [
          ["/no-such-page", {}, 404],
          ["/audit?limit=0", {}, 400],
          ["/audit", { method: "POST" }, 405],
          ["/ledger/verify", {}, 405],
          [`/output/${MISFORMED}/`, {}, 403],
          [`/output/${FOREIGN}/`, {}, 404],
          [`/output/img/${PUBLISHED}/${"0".repeat(64)}.png`, {}, 404],
        ];
        for (const [path, init, status] of cases) {
          const res = await get(base, path, init);
          assert.equal(res.status, status, path);
          assertSecurityHeaders(res.headers, `${status} ${path}`);
          assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
        }
        assert.equal(
          (await get(base, "/audit", { method: "POST" })).headers.get("allow"),
          "GET, HEAD",
        );
        const foreignHost = await rawRequest(port, "/audit", "evil.example:80");
        assert.equal(foreignHost.status, 421);
        assert.match(foreignHost.text, /content-security-policy: default-src 'none'/i);
        assert.match(foreignHost.text, /x-frame-options: DENY/i);
        assert.equal((await rawRequest(port, "/audit", `127.0.0.1:${port + 1}`)).status, 421);
        assert.equal((await rawRequest(port, "/audit", `localhost:${port}`)).status, 200);
      },
    );

    await t.step(
      "a malformed session id or parameter is a 400 that does not reflect it",
      async () => {
        const bad = [
          `/sessions/${MARKER}<script>`,
          `/audit?session=${MARKER}%3Cscript%3E`,
          `/audit?${MARKER}=1`,
          `/audit?session=${PUBLISHED}&session=${PUBLISHED}`,
          `/audit?type=${MARKER}`,
          `/audit?before=-1`,
          `/audit?limit=01`,
          `/events?after=${MARKER}`,
          `/output/${MARKER}/`,
          `/output/img/${MARKER}/${images[0]}`,
          `/output/img/${PUBLISHED}/${MARKER}.png`,
          `/sessions?state=${MARKER}`,
          `/articles?page=0`,
          `/ledger?x=${MARKER}`,
        ];
        for (const path of bad) {
          const res = await get(base, path);
          assert.equal(res.status, 400, path);
          assertSecurityHeaders(res.headers, path);
          assert.ok(!res.text.includes(MARKER), `${path} reflected the value`);
        }
      },
    );

    await t.step("an XSS corpus in audit fields renders as inert text", async () => {
      for (const path of ["/audit", `/audit?session=${REJECTED}`, `/sessions/${REJECTED}`]) {
        const res = await get(base, path);
        assertInert(res.text, path);
        assert.ok(res.text.includes(`&lt;script&gt;window.__xss=1&lt;/script&gt;${MARKER}`), path);
      }
      const sessions = await get(base, "/sessions");
      assertInert(sessions.text, "/sessions");
      const articles = await get(base, "/articles");
      assertInert(articles.text, "/articles");
      assert.ok(articles.text.includes(`Hello &lt;b&gt;${MARKER}&lt;/b&gt;`));
    });

    await t.step("sessions show their state, stage timings and article link", async () => {
      const res = await get(base, "/sessions");
      const row = (s: string) =>
        new RegExp(`<tr class="session-row" data-session="${s}">(.*?)</tr>`).exec(res.text)?.[1] ??
          "";
      assert.match(row(PUBLISHED), /class="state state-published">published</);
      assert.match(row(PUBLISHED), /class="total">150 ms</);
      assert.match(row(PUBLISHED), /data-agent="deployment">deployment \+100 ms \(50 ms\)/);
      assert.match(row(PUBLISHED), new RegExp(`href="/output/${PUBLISHED}/">article</a>`));
      assert.match(row(REJECTED), /state-rejected">rejected</);
      assert.doesNotMatch(row(REJECTED), /article-link/);
      const one = await get(base, `/sessions/${PUBLISHED}`);
      assert.match(
        one.text,
        /id="session-state" data-session="[^"]+" class="state state-published">published</,
      );
      assert.match(one.text, new RegExp(`<a id="article-link" href="/output/${PUBLISHED}/">`));
      assert.deepEqual(rowSeqs(one.text), [246, 245, 244, 243, 242, 241]);
      const unknown = await get(base, `/sessions/${UNKNOWN}`);
      assert.match(unknown.text, /state-in-progress">in progress</);
      assert.match(unknown.text, /id="article-link" href="[^"]+" hidden>/);
      const published = await get(base, "/sessions?state=published");
      assert.ok(published.text.includes(PUBLISHED) && !published.text.includes(REJECTED));
    });

    await t.step("paging goes past 200 records and returns older ones", async () => {
      const first = await get(base, "/audit");
      const firstSeqs = rowSeqs(first.text);
      assert.equal(firstSeqs.length, 100);
      const size = Number(
        /<dd id="ledger-size">(\d+)</.exec((await get(base, "/ledger")).text)?.[1],
      );
      assert.equal(firstSeqs[0]! >= 255, true);
      assert.ok(firstSeqs.every((s, i) => i === 0 || s === firstSeqs[i - 1]! - 1), "newest first");
      const seen: number[] = [...firstSeqs];
      let page = first.text;
      for (;;) {
        const older = /<a id="older-link" href="([^"]+)">/.exec(page)?.[1];
        if (older === undefined) break;
        page = (await get(base, older.replaceAll("&amp;", "&"))).text;
        const seqs = rowSeqs(page);
        assert.ok(seqs[0]! < seen[seen.length - 1]!, "an older page holds older records");
        seen.push(...seqs);
      }
      assert.ok(seen.length >= size - 5, `saw ${seen.length} of ${size}`);
      assert.equal(seen[seen.length - 1], 1);
      const filtered = await get(
        base,
        "/audit?type=agent_started&agent=supervisor&limit=50&before=100",
      );
      assert.deepEqual(rowSeqs(filtered.text), Array.from({ length: 50 }, (_, i) => 99 - i));
      const rejected = await get(base, `/audit?session=${REJECTED}&limit=4`);
      assert.equal(rowSeqs(rejected.text).length, 4);
      const next = /<a id="older-link" href="([^"]+)">/.exec(rejected.text)?.[1]!;
      assert.equal(rowSeqs((await get(base, next.replaceAll("&amp;", "&"))).text).length, 4);
    });

    await t.step("images are served per session with the right content type", async () => {
      const png = await get(base, `/output/img/${PUBLISHED}/${images[0]}`);
      assert.equal(png.headers.get("content-type"), "image/png");
      assert.deepEqual(png.bytes, PNG_BYTES);
      const jpg = await get(base, `/output/img/${PUBLISHED}/${images[1]}`);
      assert.equal(jpg.headers.get("content-type"), "image/jpeg");
      assertSecurityHeaders(jpg.headers, "jpeg");
      // the same file name under another session is not that session's image
      assert.equal((await get(base, `/output/img/${FOREIGN}/${images[0]}`)).status, 404);
      const page = await get(base, `/output/${PUBLISHED}/`);
      assert.match(page.text, new RegExp(`<img src="/output/img/${PUBLISHED}/${images[0]}"`));
      assert.equal(
        page.headers.get("content-security-policy")?.split(", ")[1],
        `img-src http://127.0.0.1:${port}/output/img/${PUBLISHED}/`,
      );
      const redirect = await get(base, `/output/${PUBLISHED}`);
      assert.equal(redirect.status, 308);
      assert.equal(redirect.headers.get("location"), `/output/${PUBLISHED}/`);
      const cards = await get(base, "/articles");
      assert.match(
        cards.text,
        new RegExp(`<img class="thumb" src="/output/img/${PUBLISHED}/${images[0]}"`),
      );
    });

    await t.step("an article page showing another session's image is refused", async () => {
      const res = await get(base, `/output/${MISFORMED}/`);
      assert.equal(res.status, 403);
      assert.ok(!res.text.includes(images[0]!));
      const cards = await get(base, "/articles");
      assert.match(
        cards.text,
        new RegExp(`<li class="article-card refused" data-session="${MISFORMED}">`),
      );
    });

    await t.step("a page no published event vouches for is a 404 and not listed", async () => {
      const res = await get(base, `/output/${FOREIGN}/`);
      assert.equal(res.status, 404);
      assert.ok(!res.text.includes(images[0]!), "none of its bytes");
      const cards = await get(base, "/articles");
      assert.ok(cards.text.includes(`data-session="${PUBLISHED}"`));
      assert.ok(!cards.text.includes(FOREIGN), "the planted session is not listed");
    });

    await t.step("path traversal and planted links in output/ are refused", async () => {
      const targets = [
        `/output/img/${PUBLISHED}/../../../config.json`,
        `/output/img/${PUBLISHED}/..%2F..%2F..%2Fconfig.json`,
        `/output/img/${PUBLISHED}/%2e%2e/%2e%2e/audit/status.json`,
        `/output/img/..%2F${PUBLISHED}/${images[0]}`,
        `/output/img/${PUBLISHED}/${images[0]}/..`,
        `/output/${PUBLISHED}/../../audit/status.json`,
        `/output/img/${PUBLISHED}//${images[0]}`,
        `/output/img/${PUBLISHED}/${images[0]}%00.png`,
      ];
      for (const target of targets) {
        const res = await rawRequest(port, target);
        assert.notEqual(res.status, 200, target);
        assert.ok(res.status >= 400 && res.status < 500, `${target}: ${res.status}`);
        assert.ok(!res.text.includes('"format": 1') && !res.text.includes("root_pin"), target);
      }
      // a symlink or a hard link planted in an img folder would expose a file the viewer can read
      const img = join(v.t.home.output, PUBLISHED, "img");
      const linkName = `${"a".repeat(64)}.png`;
      await Deno.symlink(statusPath(v.t.home), join(img, linkName));
      // a name the published event does not list is not served, whatever it is
      const symlinked = await get(base, `/output/img/${PUBLISHED}/${linkName}`);
      assert.equal(symlinked.status, 404);
      assert.ok(!symlinked.text.includes("agents"));
      await Deno.remove(join(img, linkName));
      await Deno.link(join(img, images[0]!), join(img, linkName));
      assert.equal((await get(base, `/output/img/${PUBLISHED}/${linkName}`)).status, 404);
      // a listed image with a second link: refused by the file checks, bytes matching or not
      assert.equal((await get(base, `/output/img/${PUBLISHED}/${images[0]}`)).status, 403);
      await Deno.remove(join(img, linkName));
      assert.equal((await get(base, `/output/img/${PUBLISHED}/${images[0]}`)).status, 200);
    });

    await t.step("verification needs the CSRF token in the form and the cookie", async () => {
      const page = await get(base, "/ledger");
      const token = /name="csrf" value="([0-9a-f]{64})"/.exec(page.text)?.[1];
      assert.ok(token !== undefined);
      const cookie = page.headers.get("set-cookie") ?? "";
      assert.match(cookie, /^saoe_viewer_csrf=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict$/);
      const post = (body: string, headers: Record<string, string>) =>
        get(base, "/ledger/verify", {
          method: "POST",
          body,
          headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        });
      const cookieHeader = `saoe_viewer_csrf=${token}`;
      const missingCookie = await post(`csrf=${token}`, {});
      assert.equal(missingCookie.status, 403);
      assertSecurityHeaders(missingCookie.headers, "403 verify");
      assert.equal((await post(`csrf=${"0".repeat(64)}`, { cookie: cookieHeader })).status, 403);
      assert.equal((await post("", { cookie: cookieHeader })).status, 403);
      assert.equal(
        (await post(`csrf=${token}`, { cookie: cookieHeader, origin: "http://evil.example" }))
          .status,
        403,
      );
      assert.equal(
        (await post(`csrf=${token}`, { cookie: cookieHeader, "sec-fetch-site": "cross-site" }))
          .status,
        403,
      );
      assert.match((await get(base, "/ledger")).text, /Not verified yet/);
      const ok = await post(`csrf=${token}`, { cookie: cookieHeader, origin: base });
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.get("location"), "/ledger");
      const after = await get(base, "/ledger");
      assert.match(after.text, /<p id="verify-outcome" class="ok" data-ok="true">ok: /);
      // the supervisor's first checkpoint, cosigned by the home's witness, is shown verified
      await waitFor(
        async () =>
          /id="ledger-checkpoint" data-state="verified">\d+ records, root [0-9a-f]{64}, cosigned by witness\.local\//
            .test((await get(base, "/ledger")).text),
        { what: "the ledger page to show the witnessed checkpoint as verified" },
      );
    });

    await t.step("the pipeline page lists the agents from the status file", async () => {
      const res = await get(base, "/pipeline");
      assert.match(
        res.text,
        /<tr class="agent-row" data-agent="viewer"><td class="name">viewer<\/td><td class="state">up<\/td>/,
      );
      // the supervisor counts what the viewer may not read: inbox depth and dead letters
      assert.match(res.text, /<td class="queue">\d+<\/td><td class="quarantine">\d+<\/td>/);
    });
  },
});
