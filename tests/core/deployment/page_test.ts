import assert from "node:assert/strict";
import {
  escapeHtml,
  imageUrl,
  PAGE_CSP,
  renderArticlePage,
} from "../../../core/services/deployment/page.ts";
import { isSaoeError } from "../../../core/primitives/errors.ts";

const SESSION = "0f8fad5b-d9cb-469f-a165-70867728950e";
const FILE = `${"ab".repeat(32)}.jpg`;

Deno.test("renderArticlePage() writes a complete page with charset, CSP, escaped title, body and images", () => {
  const page = renderArticlePage({
    session: SESSION,
    title: `</title><script>x</script>&"'`,
    bodyHtml: "<p>body</p>",
    images: [{ file: FILE, width: 640, height: 480 }],
  });
  assert.match(page, /^<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n/);
  assert.ok(page.includes(`<meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}">`));
  assert.ok(PAGE_CSP.startsWith("default-src 'none'; img-src 'self'; style-src 'self'"));
  const escaped = "&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;&amp;&quot;&#39;";
  assert.ok(page.includes(`<title>${escaped}</title>`));
  assert.ok(page.includes(`<h1>${escaped}</h1>`));
  assert.ok(page.includes("<p>body</p>\n"));
  assert.ok(
    page.includes(`<img src="/output/img/${SESSION}/${FILE}" alt="" width="640" height="480">`),
  );
  assert.doesNotMatch(page, /<script/);
  assert.match(page, /<\/html>\n$/);
});

Deno.test("imageUrl() refuses a session or file name that is not an identifier", () => {
  assert.equal(imageUrl(SESSION, FILE), `/output/img/${SESSION}/${FILE}`);
  for (const [s, f] of [["../x", FILE], [SESSION, "../../etc/passwd"], [SESSION, "a.svg"]]) {
    assert.throws(
      () => imageUrl(s!, f!),
      (e: unknown) => isSaoeError(e) && e.code === "bad_identifier",
    );
  }
});

Deno.test("escapeHtml() escapes the five HTML-significant characters", () => {
  assert.equal(escapeHtml(`<>&"'x`), "&lt;&gt;&amp;&quot;&#39;x");
});
