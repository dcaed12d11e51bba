import assert from "node:assert/strict";
import { csrfAllows } from "../../core/services/viewer/csrf.ts";

const ORIGIN = "http://127.0.0.1:8080";
const TOKEN = "t".repeat(43);

function request(headers: Record<string, string>): Request {
  return new Request(`${ORIGIN}/ledger/verify`, {
    method: "POST",
    headers: { cookie: `saoe_viewer_csrf=${TOKEN}`, ...headers },
  });
}

Deno.test("csrfAllows() accepts the viewer's own form posted with Origin: null (no-referrer pages)", () => {
  const req = request({ origin: "null", "sec-fetch-site": "same-origin" });
  assert.equal(csrfAllows({ token: TOKEN, origin: ORIGIN, request: req, formToken: TOKEN }), true);
});

Deno.test("csrfAllows() still refuses Origin: null from another site, a foreign origin or a wrong token", () => {
  const cross = request({ origin: "null", "sec-fetch-site": "cross-site" });
  assert.equal(
    csrfAllows({ token: TOKEN, origin: ORIGIN, request: cross, formToken: TOKEN }),
    false,
  );
  const foreign = request({ origin: "http://evil.test", "sec-fetch-site": "same-origin" });
  assert.equal(
    csrfAllows({ token: TOKEN, origin: ORIGIN, request: foreign, formToken: TOKEN }),
    false,
  );
  const wrong = request({ origin: "null", "sec-fetch-site": "same-origin" });
  assert.equal(csrfAllows({ token: TOKEN, origin: ORIGIN, request: wrong, formToken: "x" }), false);
});
