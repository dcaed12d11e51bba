/**
 * The whole web console in a real browser: an operator logs in to the intake
 * form (after one wrong credential), submits an article with an image, watches
 * the session appear and reach `published` live in the viewer (the page is not
 * reloaded), opens the article and sees its image decoded; the ledger verifies.
 * Every response the browser received from intake and viewer — pages, images,
 * static files, the event stream, redirects and error pages — carries the
 * security headers; a forged CSRF token and a missing cookie are refused and
 * write nothing. Screenshots of the main pages are taken on the way.
 */
import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
import { PNG } from "pngjs";
import type { Page } from "playwright-core";
import { ledgerEvents } from "../supervisor/_harness.ts";
import { PAGE_CSP } from "../../core/services/intake/web/headers.ts";
import {
  activeContent,
  assertInert,
  launchBrowser,
  type MiniDocument,
  screenshot,
  startBrowserPipeline,
  watchPage,
} from "./_browser.ts";

/** A 96x64 PNG with a colour gradient (something worth looking at in a screenshot). */
function gradientPng(): Buffer {
  const png = new PNG({ width: 96, height: 64 });
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 96; x++) {
      const i = (y * 96 + x) * 4;
      png.data[i] = 40 + x * 2;
      png.data[i + 1] = 90 + y * 2;
      png.data[i + 2] = 200;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

async function submitAndWait(page: Page, selector: string, path: string) {
  const [response] = await Promise.all([
    page.waitForResponse((r) =>
      new URL(r.url()).pathname === path && r.request().method() === "POST"
    ),
    page.click(selector),
  ]);
  await page.waitForLoadState("load");
  return response;
}

Deno.test({
  name: "an article submitted through the form is followed live to publication in the viewer",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using p = await startBrowserPipeline();
    await using browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });

    // the viewer's session list, open before the submission: the new session must arrive live
    const list = await context.newPage();
    const listWatch = watchPage(list);
    await list.goto(`${p.viewerUrl}/sessions`);
    await list.locator("#live-status").filter({ hasText: /^live$/ }).waitFor();
    await list.evaluate(() => {
      (globalThis as { __notReloaded?: boolean }).__notReloaded = true;
    });

    const page = await context.newPage();
    const watch = watchPage(page);
    await page.goto(`${p.intakeUrl}/submit`);
    assert.equal(new URL(page.url()).pathname, "/login", "no session: redirected to log in");
    await screenshot(page, "intake-login");

    await page.fill("#credential", `saoe_operator_${"x".repeat(43)}`);
    const wrong = await submitAndWait(page, "#login-submit", "/login");
    assert.equal(wrong.status(), 403);
    assert.match(await page.textContent("#login-error") ?? "", /not one intake accepts/);

    await page.fill("#credential", p.credential);
    const login = await submitAndWait(page, "#login-submit", "/login");
    assert.equal(login.status(), 303);
    assert.equal(new URL(page.url()).pathname, "/submit");
    const cookies = await context.cookies(p.intakeUrl);
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]!.httpOnly, true);
    assert.equal(cookies[0]!.sameSite, "Strict");
    assert.ok(
      !cookies[0]!.value.includes(p.credential.slice(-43)),
      "the cookie is not the credential",
    );

    const title = "A day at the lake";
    await page.fill("#title", title);
    await page.fill(
      "#markdown",
      "# Morning\n\nThe water was *still* and the air was cold.\n\n- kayaks\n- coffee\n",
    );
    await page.setInputFiles("#image-1", {
      name: "lake.png",
      mimeType: "image/png",
      buffer: gradientPng(),
    });
    await screenshot(page, "intake-submit");
    const submitted = await submitAndWait(page, "#submit-button", "/submit");
    assert.equal(submitted.status(), 200);
    const session = (await page.textContent("#session-id"))?.trim() ?? "";
    assert.match(session, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const link = new URL(await page.getAttribute("#viewer-link", "href") ?? "");
    assert.equal(link.pathname, `/sessions/${session}`);
    await screenshot(page, "intake-accepted");

    // live: the row appears and reaches published through the event stream alone
    const state = list.locator(`tr.session-row[data-session="${session}"] span.state`);
    await state.filter({ hasText: "published" }).waitFor({ timeout: 30_000 });
    assert.equal(
      await list.evaluate(() => (globalThis as { __notReloaded?: boolean }).__notReloaded),
      true,
      "the session list was updated without a reload",
    );
    await screenshot(list, "viewer-sessions");

    // the session page the intake linked to (intake does not know the viewer's test port)
    await page.goto(`${p.viewerUrl}${link.pathname}`);
    await page.locator("#session-state").filter({ hasText: "published" }).waitFor();
    await screenshot(page, "viewer-session");
    await Promise.all([page.waitForURL(`**/output/${session}/`), page.click("#article-link")]);
    await page.waitForLoadState("load");
    const images = await page.evaluate(() =>
      Array.from((globalThis as unknown as { document: MiniDocument }).document.images).map((
        img,
      ) => ({
        src: img.getAttribute("src"),
        complete: img.complete,
        width: img.naturalWidth,
      }))
    );
    assert.equal(images.length, 1, JSON.stringify(images));
    assert.match(images[0]!.src ?? "", new RegExp(`^/output/img/${session}/[0-9a-f]{64}\\.png$`));
    assert.ok(
      images[0]!.complete && images[0]!.width > 0,
      `the image loads: ${JSON.stringify(images)}`,
    );
    assert.ok((await page.textContent("body"))?.includes(title));
    await screenshot(page, "viewer-article");

    await page.goto(`${p.viewerUrl}/articles`);
    await page.locator(`li.article-card[data-session="${session}"]`).waitFor();
    await screenshot(page, "viewer-articles");

    await page.goto(`${p.viewerUrl}/audit`);
    await page.locator("#audit-rows tr.event-published").first().waitFor();
    await screenshot(page, "viewer-audit");

    await page.goto(`${p.viewerUrl}/ledger`);
    // a real form post: Chromium sends Origin: null under Referrer-Policy: no-referrer
    const verify = await submitAndWait(page, "#verify-button", "/ledger/verify");
    assert.equal(verify.status(), 303, "the viewer accepts its own verify form");
    await page.locator("#verify-outcome.ok").waitFor();
    await screenshot(page, "viewer-ledger");

    await page.goto(`${p.viewerUrl}/pipeline`);
    await page.locator("#pipeline-agents tr.agent-row").first().waitFor();
    await screenshot(page, "viewer-pipeline");

    // error pages of both servers
    const missing = await page.goto(`${p.viewerUrl}/no-such-page`);
    assert.equal(missing?.status(), 404);
    const badSession = await page.goto(`${p.viewerUrl}/audit?session=%3Cscript%3E`);
    assert.equal(badSession?.status(), 400);
    assert.ok(!(await page.content()).includes("<script>"), "a bad parameter is not reflected");

    // a forged CSRF token: refused, nothing accepted
    await page.goto(`${p.intakeUrl}/submit`);
    await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: MiniDocument }).document;
      doc.getElementById("csrf")!.value = "A".repeat(43);
    });
    await page.fill("#title", "forged");
    const forged = await submitAndWait(page, "#submit-button", "/submit");
    assert.equal(forged.status(), 403);
    assert.equal(await page.textContent("#error-reason"), "bad_credential");

    // no cookie: a form loaded while logged in is refused once the cookie is gone
    await page.goto(`${p.intakeUrl}/submit`);
    await context.clearCookies();
    await page.fill("#title", "no cookie");
    const noCookie = await submitAndWait(page, "#submit-button", "/submit");
    assert.equal(noCookie.status(), 403);
    assert.equal(await page.textContent("#error-reason"), "unauthenticated");
    await page.goto(`${p.intakeUrl}/submit`);
    assert.equal(new URL(page.url()).pathname, "/login");

    // logout ends the session
    await page.fill("#credential", p.credential);
    await submitAndWait(page, "#login-submit", "/login");
    const logout = await submitAndWait(page, "#logout-button", "/logout");
    assert.equal(logout.status(), 303);
    assert.equal(new URL(page.url()).pathname, "/login");
    await page.goto(`${p.intakeUrl}/submit`);
    assert.equal(new URL(page.url()).pathname, "/login");

    const events = await ledgerEvents(p.t.home);
    assert.equal(events.filter((e) => e.type === "intake_accepted").length, 1);
    const refused = events.filter((e) => e.type === "intake_refused").map((e) => [
      e.reason,
      e.detail?.surface,
    ]);
    assert.deepEqual(refused, [
      ["bad_credential", "web"],
      ["bad_credential", "web"],
      ["unauthenticated", "web"],
    ]);

    // the security headers on every response either server sent, of every kind
    const origins = [p.intakeUrl, p.viewerUrl];
    const responses = [...watch.responses, ...listWatch.responses].filter((r) =>
      origins.some((o) => r.url().startsWith(o))
    );
    const kinds = new Set<string>();
    for (const response of responses) {
      const headers = await response.allHeaders();
      const where = `${response.status()} ${response.url()}`;
      const csp = headers["content-security-policy"] ?? "";
      assert.match(csp, /default-src 'none'/, `CSP on ${where}`);
      assert.match(csp, /frame-ancestors 'none'/, `frame-ancestors on ${where}`);
      assert.equal(headers["x-frame-options"], "DENY", where);
      assert.equal(headers["x-content-type-options"], "nosniff", where);
      assert.equal(headers["referrer-policy"], "no-referrer", where);
      if (response.url().startsWith(p.intakeUrl)) assert.equal(csp, PAGE_CSP, where);
      const type = (headers["content-type"] ?? "").split(";")[0]!;
      kinds.add(response.status() >= 400 ? `error ${type}` : type);
    }
    for (
      const kind of [
        "text/html",
        "text/css",
        "text/javascript",
        "image/png",
        "image/svg+xml",
        "text/event-stream",
        "error text/html",
      ]
    ) {
      assert.ok(kinds.has(kind), `a ${kind} response was checked (saw ${[...kinds].join(", ")})`);
    }

    for (
      const [p2, w, name] of [[page, watch, "intake and viewer"], [
        list,
        listWatch,
        "sessions",
      ]] as const
    ) {
      assert.deepEqual(await activeContent(p2), [], name);
      await assertInert(p2, w, name, { allowHttpErrors: true });
    }
    await context.close();
  },
});
