/**
 * The web form served by a real intake agent process in its sandbox: a login,
 * an article with an image posted as a browser posts it, staged in `uploads/`
 * and queued for sanitization exactly as the API does, and refusals (wrong CSRF
 * token, no cookie) that write nothing and are audited as `intake_refused` with
 * `detail.surface` "web".
 */
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { PAGE_CSP } from "../../core/services/intake/web/headers.ts";
import { listTree, queuedEnvelopes, startIntake } from "./_fixtures.ts";

function realPng(width: number, height: number): Uint8Array<ArrayBuffer> {
  const png = new PNG({ width, height });
  png.data.fill(0x40);
  return new Uint8Array(PNG.sync.write(png));
}

Deno.test({
  name: "the intake process serves the web form and accepts an article with an image",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const p = await startIntake();
    try {
      const origin = { origin: p.url };
      const login = await fetch(`${p.url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", ...origin },
        body: new URLSearchParams({ credential: p.person }),
      });
      assert.equal(login.status, 303);
      assert.equal(login.headers.get("content-security-policy"), PAGE_CSP);
      await login.body?.cancel();
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
      const form = await fetch(`${p.url}/submit`, { headers: { cookie } });
      assert.equal(form.status, 200);
      const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;

      const before = await listTree(p.root);
      const data = (token: string) => {
        const d = new FormData();
        d.set("csrf", token);
        d.set("title", "From the form");
        d.set("markdown", "Some *text*.");
        d.append("images", new File([realPng(5, 4)], "a.png", { type: "image/png" }));
        d.append("images", new File([], "", { type: "application/octet-stream" }));
        return d;
      };
      const forged = await fetch(`${p.url}/submit`, {
        method: "POST",
        headers: { cookie, ...origin },
        body: data("B".repeat(43)),
      });
      assert.equal(forged.status, 403);
      await forged.body?.cancel();
      const noCookie = await fetch(`${p.url}/submit`, {
        method: "POST",
        headers: origin,
        body: data(csrf),
      });
      assert.equal(noCookie.status, 403);
      await noCookie.body?.cancel();
      await p.waitForEvent((e) => e.type === "intake_refused" && e.reason === "unauthenticated");
      assert.deepEqual(await listTree(p.root), before, "a refused post writes nothing");

      const res = await fetch(`${p.url}/submit`, {
        method: "POST",
        headers: { cookie, ...origin },
        body: data(csrf),
      });
      assert.equal(res.status, 200);
      const html = await res.text();
      const session = /<code id="session-id">([0-9a-f-]{36})<\/code>/.exec(html)?.[1];
      assert.ok(session !== undefined, html);
      assert.match(html, new RegExp(`href="http://127\\.0\\.0\\.1:8080/sessions/${session}"`));
      const queued = await queuedEnvelopes(p.queue);
      assert.deepEqual(queued.map((q) => [q.template, q.session_id]).sort(), [
        ["blog_article_intent", session],
        ["image_process_intent", session],
      ]);
      const accepted = await p.waitForEvent((e) => e.type === "intake_accepted");
      assert.deepEqual(accepted.detail, { credential: "operator", image_count: 1 });
      const refused = p.events.filter((e) => e.type === "intake_refused");
      assert.deepEqual(
        refused.map((e) => [e.reason, e.detail?.surface, e.detail?.status]),
        [["bad_credential", "web", 403], ["unauthenticated", "web", 403]],
      );
      assert.match(String(refused[0]!.detail?.message), /CSRF/);
      assert.deepEqual(p.strayLines, []);
    } finally {
      await p.stop();
    }
  },
});
