/**
 * Hostile text in every place a browser shows it executes nothing: audit rows
 * seeded with an XSS corpus (in the ledger before the pipeline starts, and live
 * through real intake refusals whose messages quote an attacker's field name),
 * an article whose title and body are the corpus, and the intake form
 * re-rendered with the corpus after a refusal. On each page: no dialog, no
 * console or page error, `window.__xss` unset, and no active content in the DOM
 * (scripts, event-handler attributes, `javascript:` URLs, frames, plugins).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { buildEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { ledgerPath } from "../../core/domain/home/layout.ts";
import { ledgerEvents, waitFor } from "../supervisor/_harness.ts";
import {
  activeContent,
  assertInert,
  launchBrowser,
  type PageWatch,
  startBrowserPipeline,
  watchPage,
} from "./_browser.ts";
import { HTML_PAYLOADS, MARKDOWN_PAYLOADS, XSS_TITLE } from "./_xss_corpus.ts";

const SEEDED_SESSION = "7d0c4e2a-5b1f-4c3e-9a8d-2f6b1e0c9a47";

async function seedLedger(path: string): Promise<void> {
  const ledger = await openLedger({ path });
  try {
    const events = HTML_PAYLOADS.flatMap((payload) => [
      encodeEvent(buildEvent({
        type: "rejected",
        agent: "sanitization",
        session_id: SEEDED_SESSION,
        envelope_id: crypto.randomUUID(),
        reason: "schema",
        detail: { message: payload, [payload.slice(0, 60)]: [payload, { nested: payload }] },
      })),
      encodeEvent(buildEvent({
        type: "intake_refused",
        agent: "intake",
        session_id: SEEDED_SESSION,
        reason: "bad_credential",
        detail: { status: 403, message: payload, credential: "operator" },
      })),
    ]);
    ledger.append(events);
  } finally {
    ledger.close();
  }
}

async function checkPage(
  page: Page,
  watch: PageWatch,
  where: string,
  options: { allowHttpErrors?: boolean } = {},
): Promise<void> {
  await page.waitForLoadState("load");
  assert.deepEqual(await activeContent(page), [], `${where}: active content in the DOM`);
  await assertInert(page, watch, where, options);
}

Deno.test({
  name: "audit rows, articles and form fields seeded with an XSS corpus execute nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using p = await startBrowserPipeline({
      beforeStart: (t) => seedLedger(ledgerPath(t.home)),
    });
    await using browser = await launchBrowser();
    const context = await browser.newContext();
    context.setDefaultTimeout(20_000);

    // the seeded rows of one session, as stored and as rendered
    const audit = await context.newPage();
    const auditWatch = watchPage(audit);
    await audit.goto(`${p.viewerUrl}/audit?session=${SEEDED_SESSION}`);
    const seededText = await audit.textContent("#audit-rows") ?? "";
    for (const payload of HTML_PAYLOADS) {
      // details are shown as JSON text: quotes come back escaped
      const shown = seededText.includes(payload) ||
        seededText.includes(JSON.stringify(payload).slice(1, -1));
      assert.ok(shown, `the row shows ${payload} as text`);
    }
    await checkPage(audit, auditWatch, "audit trail of the seeded session");

    // live rows: the open audit trail receives refusals that quote an attacker's field name
    await audit.goto(`${p.viewerUrl}/audit`);
    await audit.locator("#live-status").filter({ hasText: /^live$/ }).waitFor();
    const liveProbes = [
      `<img src=x onerror=window.__xss=1>`,
      `<svg onload=window.__xss=1>`,
      `<script>window.__xss=1</script>`,
    ];
    for (const key of liveProbes) {
      const res = await fetch(`${p.intakeUrl}/api/submit`, {
        method: "POST",
        headers: { authorization: `Bearer ${p.credential}`, "content-type": "application/json" },
        body: JSON.stringify({ title: "t", markdown: "", [key]: 1 }),
      });
      assert.equal(res.status, 400);
      await res.body?.cancel();
    }
    await waitFor(async () => {
      const text = await audit.textContent("#audit-rows") ?? "";
      return liveProbes.every((k) => text.includes(k));
    }, { what: "the refusals to appear live in the audit trail" });
    await checkPage(audit, auditWatch, "audit trail with live rows");

    // the article: corpus title and body, submitted through the form
    const form = await context.newPage();
    const formWatch = watchPage(form);
    await form.goto(`${p.intakeUrl}/login`);
    await form.fill("#credential", p.credential);
    await Promise.all([form.waitForURL("**/submit"), form.click("#login-submit")]);
    const markdown = [...HTML_PAYLOADS, ...MARKDOWN_PAYLOADS].join("\n\n");
    await form.fill("#title", XSS_TITLE);
    await form.fill("#markdown", markdown);
    // a GIF is refused: the form comes back with the corpus in its fields
    await form.setInputFiles("#image-1", {
      name: "x.gif",
      mimeType: "image/gif",
      buffer: Buffer.from("GIF89a not a JPEG or PNG"),
    });
    await form.click("#submit-button");
    await form.locator("#images-error").waitFor();
    assert.equal(await form.inputValue("#title"), XSS_TITLE);
    assert.equal(await form.inputValue("#markdown"), markdown.replaceAll("\r\n", "\n"));
    // the 415 itself is logged by Chromium as a failed load: the one console line allowed here
    await checkPage(form, formWatch, "intake form re-rendered with the corpus", {
      allowHttpErrors: true,
    });

    await form.setInputFiles("#image-1", []);
    await form.click("#submit-button");
    const session = (await form.locator("#session-id").textContent())?.trim() ?? "";
    assert.match(session, /^[0-9a-f-]{36}$/);
    await checkPage(form, formWatch, "intake confirmation", { allowHttpErrors: true });
    await waitFor(async () => {
      const events = await ledgerEvents(p.t.home);
      return events.some((e) => e.type === "published" && e.session_id === session);
    }, { what: "the corpus article to be published", timeoutMs: 30_000 });

    const viewer = await context.newPage();
    const viewerWatch = watchPage(viewer);
    for (
      const path of [
        `/output/${session}/`,
        `/articles`,
        `/sessions`,
        `/sessions/${session}`,
        `/sessions/${SEEDED_SESSION}`,
        `/audit?reason=schema`,
        `/audit?agent=intake`,
        `/ledger`,
      ]
    ) {
      const res = await viewer.goto(`${p.viewerUrl}${path}`);
      assert.equal(res?.status(), 200, path);
      await checkPage(viewer, viewerWatch, path);
    }
    // the title is shown, as text
    await viewer.goto(`${p.viewerUrl}/output/${session}/`);
    assert.ok((await viewer.textContent("body"))?.includes("<script>window.__xss=1</script>"));
    await checkPage(viewer, viewerWatch, "article");
    await context.close();
  },
});
