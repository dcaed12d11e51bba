/**
 * DNS rebinding from a real browser: Chromium resolves an attacker's name to
 * 127.0.0.1 (`--host-resolver-rules`, what a rebinding DNS server achieves), so
 * a page of that origin can reach the viewer and intake ports as same-origin.
 * Both servers must answer such requests 421 without any data, to navigation
 * and to the page's own `fetch`, while the same browser on 127.0.0.1 is served.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { submitArticle } from "../../core/services/intake/client.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH, startBrowserPipeline, waitForHttp } from "./_browser.ts";

const REBOUND = "rebind.attacker.test";

Deno.test({
  name:
    "a page under a name rebound to 127.0.0.1 gets 421 and no data from the viewer and intake, in Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using p = await startBrowserPipeline();
    await waitForHttp(p.viewerUrl);
    await waitForHttp(p.intakeUrl);
    const answer = await submitArticle({
      url: p.intakeUrl,
      credential: p.credential,
      title: "Secret draft",
      markdown: "Not for the attacker.",
    });
    assert.ok(answer.ok, JSON.stringify(answer));
    const session = answer.session_id;

    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        ...CHROMIUM_ARGS,
        `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`,
        // Chromium's own defence (Private/Local Network Access) would stop the page's
        // requests before they reach our servers; off, so the servers' defence is tested
        "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights," +
        "PrivateNetworkAccessRespectPreflightResults,BlockInsecurePrivateNetworkRequests",
      ],
      timeout: 30_000,
    });
    try {
      const page = await browser.newPage();
      // the control: the operator's own origin is served, the session is listed
      const own = await page.goto(`${p.viewerUrl}/sessions`);
      assert.equal(own?.status(), 200);
      assert.ok((await page.content()).includes(session), "the viewer lists the session");

      for (const base of [p.viewerUrl, p.intakeUrl]) {
        const port = new URL(base).port;
        const rebound = `http://${REBOUND}:${port}`;
        for (const path of ["/", "/sessions", "/audit"]) {
          const response = await page.goto(`${rebound}${path}`);
          assert.equal(response?.status(), 421, `${rebound}${path}: ${response?.status()}`);
          assert.ok(!(await page.content()).includes(session), `${rebound}${path} leaks data`);
        }
        // the attacker's page, served by the attacker before the name was rebound (no CSP of
        // ours), then its script's same-origin requests, which now reach 127.0.0.1
        await page.route(`${rebound}/attacker.html`, (route) =>
          route.fulfill({
            contentType: "text/html",
            body: "<!doctype html><title>attacker</title><p>hello</p>",
          }));
        await page.goto(`${rebound}/attacker.html`);
        const seen = await page.evaluate(async () => {
          const out: [number, string][] = [];
          for (
            const [path, init] of [
              ["/sessions", {}],
              ["/events", {}],
              ["/api/submit", { method: "POST", body: '{"title":"x","markdown":"y"}' }],
            ] as [string, RequestInit][]
          ) {
            try {
              const r = await fetch(path, init);
              out.push([r.status, await r.text()]);
            } catch (err) {
              out.push([-1, String(err)]);
            }
          }
          return out;
        });
        for (const [status, body] of seen) {
          assert.equal(status, 421, `${rebound}: ${body.slice(0, 200)}`);
          assert.ok(!body.includes(session));
        }
      }
    } finally {
      await browser.close().catch(() => {});
    }
  },
});
