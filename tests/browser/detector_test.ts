/**
 * A control for the XSS checks: on a page with no CSP and the payloads inserted
 * raw, the same watchers must see the sentinel, the dialog and the active
 * content. If they did not, the corpus tests could pass without proving anything.
 */
import assert from "node:assert/strict";
import { waitFor } from "../supervisor/_harness.ts";
import { activeContent, assertInert, launchBrowser, watchPage } from "./_browser.ts";
import { HTML_PAYLOADS } from "./_xss_corpus.ts";

Deno.test({
  name: "the XSS watchers catch payloads that do run on an unprotected page",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    const watch = watchPage(page);
    await page.setContent(`<!doctype html><body>${HTML_PAYLOADS.join("\n")}</body>`);
    await page.waitForFunction(() => (globalThis as { __xss?: unknown }).__xss === 1);
    await waitFor(() => watch.dialogs.length > 0, { what: "the alert payload's dialog" });
    const active = await activeContent(page);
    assert.ok(active.some((a) => a.startsWith("<script>")), active.join("\n"));
    assert.ok(active.some((a) => a === "img[onerror]"), active.join("\n"));
    assert.ok(active.some((a) => a.startsWith("a[href=javascript:")), active.join("\n"));
    await assert.rejects(assertInert(page, watch, "unprotected page"), /window\.__xss/);
  },
});
