/**
 * The intake web form's handler, request by request (no process, no browser):
 * login, session cookie, CSRF token, the article form's limits and messages,
 * the quota shared with the API, and every refusal reported with its reason.
 * `accept` records what it is given: nothing may reach it on any error path.
 */
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { createAdmission, SECURITY_HEADERS } from "../../core/services/intake/handler.ts";
import type { IntakeRefusal } from "../../core/services/intake/refusal.ts";
import type { Submission } from "../../core/services/intake/submission.ts";
import { createIntakeWebHandler } from "../../core/services/intake/web/handler.ts";
import { PAGE_CSP } from "../../core/services/intake/web/headers.ts";
import { hashOperatorToken } from "../../core/domain/keys/operator_token.ts";
import type { OperatorToken } from "../../core/services/runtime/protocol.ts";
import { FakeClock } from "../../core/devtools/testing/fake_clock.ts";

const PORT = 8090;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const SECRET = `saoe_operator_${"Q".repeat(43)}`;
const SESSION = "0b8f1c52-8c43-4ad4-9a57-8f8e1c8d4a10";

function realPng(width: number, height: number): Uint8Array<ArrayBuffer> {
  const png = new PNG({ width, height });
  png.data.fill(0x7f);
  return new Uint8Array(PNG.sync.write(png));
}

interface Harness {
  web: (request: Request) => Promise<Response>;
  clock: FakeClock;
  accepted: Submission[];
  refusals: IntakeRefusal[];
  depth: { value: number };
}

async function harness(limits: { person_per_minute?: number; max_queue_depth?: number } = {}) {
  const tokens: OperatorToken[] = [
    { id: "operator", sha256: await hashOperatorToken(SECRET), kind: "person" },
  ];
  const clock = new FakeClock(Date.parse("2026-03-01T10:00:00Z"));
  const accepted: Submission[] = [];
  const refusals: IntakeRefusal[] = [];
  const depth = { value: 0 };
  const handler = createIntakeWebHandler({
    tokens,
    clock,
    port: PORT,
    viewerUrl: "http://127.0.0.1:9999",
    admission: createAdmission({
      clock,
      limits: {
        person_per_minute: limits.person_per_minute ?? 10,
        automation_per_minute: 100,
        max_queue_depth: limits.max_queue_depth ?? 100,
      },
      queueDepth: () => Promise.resolve(depth.value),
    }),
    accept: (submission) => {
      accepted.push(submission);
      return Promise.resolve({ session_id: SESSION, image_count: submission.images.length });
    },
    refused: (refusal) => {
      refusals.push(refusal);
      return Promise.resolve();
    },
  });
  const h: Harness = {
    web: (request) => handler(request, "127.0.0.1"),
    clock,
    accepted,
    refusals,
    depth,
  };
  return h;
}

function get(path: string, cookie?: string): Request {
  return new Request(`${ORIGIN}${path}`, {
    headers: cookie === undefined ? {} : { cookie },
  });
}

function postForm(
  path: string,
  fields: Record<string, string>,
  options: { cookie?: string; origin?: string; site?: string } = {},
): Request {
  return new Request(`${ORIGIN}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: options.origin ?? ORIGIN,
      ...(options.site !== undefined ? { "sec-fetch-site": options.site } : {}),
      ...(options.cookie !== undefined ? { cookie: options.cookie } : {}),
    },
    body: new URLSearchParams(fields).toString(),
  });
}

function article(
  fields: Record<string, string>,
  images: Uint8Array<ArrayBuffer>[] = [],
  options: { cookie?: string; origin?: string; emptyInputs?: number } = {},
): Request {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  for (const [i, bytes] of images.entries()) {
    data.append("images", new File([bytes], `photo-${i}.png`, { type: "image/png" }));
  }
  for (let i = 0; i < (options.emptyInputs ?? 0); i++) {
    data.append("images", new File([], "", { type: "application/octet-stream" }));
  }
  return new Request(`${ORIGIN}/submit`, {
    method: "POST",
    headers: {
      origin: options.origin ?? ORIGIN,
      ...(options.cookie !== undefined ? { cookie: options.cookie } : {}),
    },
    body: data,
  });
}

/** Logs in; returns the cookie pair and the page's CSRF token. */
async function login(h: Harness): Promise<{ cookie: string; csrf: string }> {
  const res = await h.web(postForm("/login", { credential: SECRET }));
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/submit");
  const setCookie = res.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0]!;
  const form = await h.web(get("/submit", cookie));
  assert.equal(form.status, 200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  assert.ok(csrf !== undefined);
  return { cookie, csrf };
}

function assertPageHeaders(res: Response): void {
  assert.equal(res.headers.get("content-security-policy"), PAGE_CSP);
  for (const name of ["x-frame-options", "x-content-type-options", "referrer-policy"]) {
    assert.equal(res.headers.get(name), SECURITY_HEADERS[name]);
  }
}

Deno.test("the web form redirects a browser without a session to the login page", async () => {
  const h = await harness();
  const res = await h.web(get("/submit"));
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/login");
  assertPageHeaders(res);
  const page = await h.web(get("/login"));
  assert.equal(page.status, 200);
  assertPageHeaders(page);
  const html = await page.text();
  assert.match(html, /<form id="login-form" method="post" action="\/login">/);
  assert.doesNotMatch(html, /<script|style="/);
  assert.deepEqual(h.refusals, []);
});

Deno.test("a login sets an HttpOnly SameSite=Strict session cookie that is not the credential", async () => {
  const h = await harness();
  const res = await h.web(postForm("/login", { credential: SECRET }));
  assert.equal(res.status, 303);
  const setCookie = res.headers.get("set-cookie") ?? "";
  assert.match(
    setCookie,
    /^saoe_intake_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=3600$/,
  );
  assert.ok(!setCookie.includes(SECRET.slice(14)));
  const { csrf } = await login(h);
  assert.match(csrf, /^[A-Za-z0-9_-]{43}$/);
});

Deno.test("a wrong or empty credential is refused with a message and audited", async () => {
  const h = await harness();
  const wrong = await h.web(postForm("/login", { credential: `saoe_operator_${"x".repeat(43)}` }));
  assert.equal(wrong.status, 403);
  assertPageHeaders(wrong);
  assert.equal(wrong.headers.get("set-cookie"), null);
  assert.match(
    await wrong.text(),
    /id="login-error"[^>]*>That credential is not one intake accepts/,
  );
  const empty = await h.web(postForm("/login", { credential: "" }));
  assert.equal(empty.status, 401);
  await empty.body?.cancel();
  assert.deepEqual(h.refusals.map((r) => [r.status, r.reason]), [
    [403, "bad_credential"],
    [401, "unauthenticated"],
  ]);
});

Deno.test("failed logins are limited per claimed credential with 429 and Retry-After", async () => {
  const h = await harness();
  for (let i = 0; i < 5; i++) {
    const res = await h.web(postForm("/login", { credential: `saoe_operator_${"x".repeat(43)}` }));
    assert.equal(res.status, 403);
    await res.body?.cancel();
  }
  // even the right credential waits: the guesser cannot tell when it would have matched
  const limited = await h.web(postForm("/login", { credential: SECRET }));
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "60");
  assert.match(await limited.text(), /Too many failed logins/);
  assert.equal(h.refusals.at(-1)?.reason, "quota_exceeded");
  h.clock.advance(61_000);
  const again = await h.web(postForm("/login", { credential: SECRET }));
  assert.equal(again.status, 303);
});

Deno.test("failed logins are limited per client address across credentials", async () => {
  const h = await harness();
  for (let i = 0; i < 20; i++) {
    const id = `guess${i}`;
    const res = await h.web(postForm("/login", { credential: `saoe_${id}_${"x".repeat(43)}` }));
    assert.equal(res.status, 403);
    await res.body?.cancel();
  }
  const limited = await h.web(postForm("/login", { credential: SECRET }));
  assert.equal(limited.status, 429);
  await limited.body?.cancel();
});

Deno.test("an article posted through the form reaches accept and links to the viewer", async () => {
  const h = await harness();
  const { cookie, csrf } = await login(h);
  const png = realPng(4, 3);
  const res = await h.web(
    article({ csrf, title: "Hello", markdown: "# Hi" }, [png], { cookie, emptyInputs: 1 }),
  );
  assert.equal(res.status, 200);
  assertPageHeaders(res);
  const html = await res.text();
  assert.match(html, new RegExp(`<code id="session-id">${SESSION}</code>`));
  assert.match(
    html,
    new RegExp(`<a id="viewer-link" href="http://127.0.0.1:9999/sessions/${SESSION}"`),
  );
  assert.equal(h.accepted.length, 1);
  assert.equal(h.accepted[0]!.title, "Hello");
  assert.equal(h.accepted[0]!.images.length, 1);
  assert.deepEqual(h.accepted[0]!.images[0]!.bytes, png);
  assert.deepEqual(h.refusals, []);
});

Deno.test("a missing or wrong CSRF token is refused with 403 and nothing accepted", async () => {
  const h = await harness();
  const { cookie, csrf } = await login(h);
  const other = await login(h);
  for (
    const fields of [
      { title: "t", markdown: "m" },
      { csrf: "A".repeat(43), title: "t", markdown: "m" },
      { csrf: other.csrf, title: "t", markdown: "m" },
    ]
  ) {
    const res = await h.web(article(fields, [], { cookie }));
    assert.equal(res.status, 403);
    assertPageHeaders(res);
    assert.match(await res.text(), /<code id="error-reason">bad_credential<\/code>/);
  }
  const logout = await h.web(postForm("/logout", { csrf: other.csrf }, { cookie }));
  assert.equal(logout.status, 403);
  await logout.body?.cancel();
  assert.equal(h.accepted.length, 0);
  assert.deepEqual(h.refusals.map((r) => [r.reason, r.credential, /CSRF/.test(r.message)]), [
    ["bad_credential", "operator", true],
    ["bad_credential", "operator", true],
    ["bad_credential", "operator", true],
    ["bad_credential", "operator", true],
  ]);
  // the right token still works afterwards
  const ok = await h.web(article({ csrf, title: "t", markdown: "m" }, [], { cookie }));
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
});

Deno.test("a post without a session cookie, or from another site, is refused with 403", async () => {
  const h = await harness();
  const { cookie, csrf } = await login(h);
  const noCookie = await h.web(article({ csrf, title: "t", markdown: "m" }));
  assert.equal(noCookie.status, 403);
  assertPageHeaders(noCookie);
  assert.match(await noCookie.text(), /unauthenticated/);
  const forged = await h.web(
    article({ csrf, title: "t", markdown: "m" }, [], {
      cookie: "saoe_intake_session=" + "A".repeat(43),
    }),
  );
  assert.equal(forged.status, 403);
  await forged.body?.cancel();
  const crossSite = await h.web(
    article({ csrf, title: "t", markdown: "m" }, [], { cookie, origin: "http://evil.test" }),
  );
  assert.equal(crossSite.status, 403);
  await crossSite.body?.cancel();
  const crossLogin = await h.web(
    postForm("/login", { credential: SECRET }, { origin: "http://127.0.0.1:8080" }),
  );
  assert.equal(crossLogin.status, 403);
  assert.equal(crossLogin.headers.get("set-cookie"), null);
  await crossLogin.body?.cancel();
  // what Chromium sends under Referrer-Policy: no-referrer: Origin null, Sec-Fetch-Site says it all
  const nullOrigin = await h.web(
    postForm("/login", { credential: SECRET }, { origin: "null", site: "cross-site" }),
  );
  assert.equal(nullOrigin.status, 403);
  await nullOrigin.body?.cancel();
  const sameSite = await h.web(
    postForm("/login", { credential: SECRET }, { origin: "null", site: "same-site" }),
  );
  assert.equal(sameSite.status, 403);
  await sameSite.body?.cancel();
  const sameOrigin = await h.web(
    postForm("/login", { credential: SECRET }, { origin: "null", site: "same-origin" }),
  );
  assert.equal(sameOrigin.status, 303);
  assert.equal(h.accepted.length, 0);
  assert.deepEqual(h.refusals.map((r) => [r.status, r.reason]), [
    [403, "unauthenticated"],
    [403, "unauthenticated"],
    [403, "bad_credential"],
    [403, "bad_credential"],
    [403, "bad_credential"],
    [403, "bad_credential"],
  ]);
});

Deno.test("limit violations re-render the form with the message next to the field", async () => {
  const h = await harness();
  const { cookie, csrf } = await login(h);
  const xssTitle = `<img src=x onerror="window.__xss=1">${"t".repeat(200)}`;
  const long = await h.web(
    article({ csrf, title: xssTitle, markdown: "kept body" }, [], { cookie }),
  );
  assert.equal(long.status, 413);
  assertPageHeaders(long);
  const html = await long.text();
  assert.match(html, /<p id="title-error" class="field-error">The title has 236 characters/);
  assert.ok(!html.includes("<img src=x"));
  assert.match(html, /&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;/);
  assert.match(html, /<textarea id="markdown" name="markdown">kept body<\/textarea>/);

  const notImage = new TextEncoder().encode("GIF89a not allowed");
  const bad = await h.web(article({ csrf, title: "t", markdown: "m" }, [notImage], { cookie }));
  assert.equal(bad.status, 415);
  assert.match(
    await bad.text(),
    /<p id="images-error" class="field-error">Image 1 is not a JPEG or PNG/,
  );

  const png = realPng(2, 2);
  const three = await h.web(
    article({ csrf, title: "t", markdown: "m" }, [png, png, png], { cookie }),
  );
  assert.equal(three.status, 413);
  assert.match(await three.text(), /id="images-error"[^>]*>The submission has 3 images/);

  const empty = await h.web(article({ csrf, title: "", markdown: "m" }, [], { cookie }));
  assert.equal(empty.status, 400);
  assert.match(await empty.text(), /id="title-error"/);

  const notMultipart = await h.web(postForm("/submit", { csrf, title: "t" }, { cookie }));
  assert.equal(notMultipart.status, 415);
  await notMultipart.body?.cancel();

  assert.equal(h.accepted.length, 0);
  assert.deepEqual(h.refusals.map((r) => r.reason), [
    "payload_too_large",
    "unsupported_media",
    "payload_too_large",
    "schema",
    "unsupported_media",
  ]);
});

Deno.test("the quota and the queue limit answer 429 and 503 with Retry-After", async () => {
  const h = await harness({ person_per_minute: 1, max_queue_depth: 5 });
  const { cookie, csrf } = await login(h);
  const first = await h.web(article({ csrf, title: "a", markdown: "" }, [], { cookie }));
  assert.equal(first.status, 200);
  await first.body?.cancel();
  const second = await h.web(article({ csrf, title: "b", markdown: "" }, [], { cookie }));
  assert.equal(second.status, 429);
  assert.equal(second.headers.get("retry-after"), "60");
  assert.match(await second.text(), /id="form-error" class="form-error">Too many submissions/);
  h.clock.advance(60_001);
  h.depth.value = 5;
  const full = await h.web(article({ csrf, title: "c", markdown: "" }, [], { cookie }));
  assert.equal(full.status, 503);
  assert.equal(full.headers.get("retry-after"), "5");
  await full.body?.cancel();
  assert.equal(h.accepted.length, 1);
  assert.deepEqual(h.refusals.map((r) => [r.reason, r.credential]), [
    ["quota_exceeded", "operator"],
    ["queue_full", "operator"],
  ]);
});

Deno.test("logout needs the CSRF token and ends the session", async () => {
  const h = await harness();
  const { cookie, csrf } = await login(h);
  const res = await h.web(postForm("/logout", { csrf }, { cookie }));
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/login");
  assert.match(res.headers.get("set-cookie") ?? "", /^saoe_intake_session=; .*Max-Age=0$/);
  const after = await h.web(get("/submit", cookie));
  assert.equal(after.status, 303);
  const post = await h.web(article({ csrf, title: "t", markdown: "m" }, [], { cookie }));
  assert.equal(post.status, 403);
  await post.body?.cancel();
  assert.equal(h.accepted.length, 0);
});

Deno.test("a session expires after an hour", async () => {
  const h = await harness();
  const { cookie } = await login(h);
  h.clock.advance(60 * 60 * 1000);
  const res = await h.web(get("/submit", cookie));
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/login");
});

Deno.test("static files, unknown pages, foreign hosts and other methods carry the page CSP", async () => {
  const h = await harness();
  const css = await h.web(get("/static/intake.css"));
  assert.equal(css.status, 200);
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
  assertPageHeaders(css);
  await css.body?.cancel();
  const icon = await h.web(get("/static/icon.svg"));
  assert.equal(icon.headers.get("content-type"), "image/svg+xml");
  assertPageHeaders(icon);
  await icon.body?.cancel();
  const missing = await h.web(get("/static/nope.js"));
  assert.equal(missing.status, 404);
  assertPageHeaders(missing);
  await missing.body?.cancel();
  const foreign = await h.web(
    new Request(`${ORIGIN}/login`, { headers: { host: "evil.test:8090" } }),
  );
  assert.equal(foreign.status, 421);
  assertPageHeaders(foreign);
  await foreign.body?.cancel();
  const put = await h.web(new Request(`${ORIGIN}/submit`, { method: "PUT" }));
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("allow"), "GET, HEAD, POST");
  await put.body?.cancel();
  assert.deepEqual(h.refusals.map((r) => r.reason), [
    "not_found",
    "bad_host",
    "method_not_allowed",
  ]);
});
