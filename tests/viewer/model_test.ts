import assert from "node:assert/strict";
import { isSaoeError } from "../../core/primitives/errors.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import { inertJson, recordData } from "../../core/services/viewer/event_stream.ts";
import { decodeEntities, esc } from "../../core/services/viewer/html.ts";
import {
  intParam,
  parseQuery,
  sessionParam,
  typeParam,
} from "../../core/services/viewer/params.ts";
import { SessionIndex } from "../../core/services/viewer/sessions.ts";
import { cookieToken, csrfAllows, newCsrfToken } from "../../core/services/viewer/csrf.ts";
import { securityHeaders, VIEWER_CSP } from "../../core/services/viewer/headers.ts";
import { VIEWER_JS } from "../../core/services/viewer/static_assets.ts";

const S = "0f8fad5b-d9cb-469f-a165-70867728950e";

function refusedQuery(query: string): string {
  try {
    parseQuery(new URL(`http://x/${query}`), {
      session: sessionParam,
      type: typeParam,
      before: intParam(1),
    });
  } catch (err: unknown) {
    assert.ok(isSaoeError(err, "bad_identifier"));
    return err.message;
  }
  assert.fail(`accepted ${query}`);
}

Deno.test("parseQuery() refuses unknown, repeated and malformed parameters without naming the value", () => {
  for (
    const q of [
      "?evil<x>=1",
      `?session=${S}&session=${S}`,
      "?session=<script>",
      `?session=${S.toUpperCase()}`,
      "?type=Rejected",
      "?before=0",
      "?before=1e3",
      "?before=+5",
      "?before=99999999999999999999",
      `?x=${"a".repeat(3000)}`,
    ]
  ) {
    const message = refusedQuery(q);
    assert.doesNotMatch(message, /<|evil|script|Rejected|1e3|aaaa/, `${q}: ${message}`);
  }
  assert.deepEqual(
    parseQuery(new URL(`http://x/?session=${S}&type=&before=12`), {
      session: sessionParam,
      type: typeParam,
      before: intParam(1),
    }),
    { session: S, before: 12 },
  );
});

function event(type: AuditEvent["type"], agent: string, ms: number): AuditEvent {
  return { type, agent, session_id: S, at: new Date(Date.UTC(2026, 0, 1) + ms).toISOString() };
}

Deno.test("SessionIndex derives the state with published over failed over rejected", () => {
  const index = new SessionIndex();
  index.add(1, event("intake_accepted", "intake", 0));
  assert.equal(index.get(S)?.state, "in progress");
  index.add(2, event("rejected", "sanitization", 10));
  assert.equal(index.get(S)?.state, "rejected");
  index.add(3, event("handler_error", "deployment", 20));
  assert.equal(index.get(S)?.state, "failed");
  index.add(4, event("published", "deployment", 120));
  const s = index.get(S)!;
  assert.equal(s.state, "published");
  assert.deepEqual(s.seqs, [1, 2, 3, 4]);
  assert.deepEqual(
    s.stages.map((st) => [st.agent, st.firstMs - s.startedMs, st.lastMs - st.firstMs, st.events]),
    [["intake", 0, 0, 1], ["sanitization", 10, 0, 1], ["deployment", 20, 100, 2]],
  );
  assert.equal(index.add(4, event("rejected", "planner", 200)), undefined, "an old seq is ignored");
  index.advance(9);
  assert.equal(index.lastSeq, 9);
});

Deno.test("SessionIndex.list() pages newest first and filters by state", () => {
  const index = new SessionIndex();
  const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
  ids.forEach((id, i) =>
    index.add(i + 1, {
      type: i % 2 === 0 ? "published" : "validated",
      agent: "deployment",
      session_id: id,
      at: "2026-01-01T00:00:00Z",
    })
  );
  assert.deepEqual(index.list({ limit: 2 }).map((s) => s.session), [ids[4], ids[3]]);
  assert.deepEqual(index.list({ limit: 9, beforeSeq: 4 }).map((s) => s.session), [
    ids[2],
    ids[1],
    ids[0],
  ]);
  assert.deepEqual(index.list({ limit: 9, state: "in progress" }).map((s) => s.session), [
    ids[3],
    ids[1],
  ]);
});

Deno.test("event stream JSON is inert in HTML and JavaScript", () => {
  const data = recordData({
    seq: 3,
    event: {
      type: "rejected",
      agent: "planner",
      at: "2026-01-01T00:00:00Z",
      detail: { m: "</script>\u2028&" },
    },
  });
  assert.doesNotMatch(data, /[<>&\u2028\u2029\n]/);
  assert.equal(JSON.parse(data).detail.m, "</script>\u2028&");
  assert.equal(inertJson("<"), '"\\u003c"');
  assert.equal(recordData({ seq: 4 }), '{"seq":4,"undecodable":true}');
});

Deno.test("esc() and decodeEntities() round-trip markup as text", () => {
  const text = `<a href="x" onclick='y'>&amp;</a>`;
  assert.doesNotMatch(esc(text), /[<>"']/);
  assert.equal(decodeEntities(esc(text)), text);
  assert.equal(decodeEntities("&#x110000;&#0;&unknown;"), "\ufffd\ufffd&unknown;");
});

Deno.test("csrfAllows() needs the token in both the form and the cookie, from the own origin", () => {
  const token = newCsrfToken();
  const origin = "http://127.0.0.1:8080";
  const req = (headers: Record<string, string>) =>
    new Request(`${origin}/ledger/verify`, { method: "POST", headers });
  const cookie = `a=b; saoe_viewer_csrf=${token}`;
  assert.equal(csrfAllows({ token, origin, request: req({ cookie }), formToken: token }), true);
  assert.equal(csrfAllows({ token, origin, request: req({}), formToken: token }), false);
  assert.equal(
    csrfAllows({ token, origin, request: req({ cookie }), formToken: undefined }),
    false,
  );
  assert.equal(
    csrfAllows({
      token,
      origin,
      request: req({ cookie, origin: "http://localhost:8080" }),
      formToken: token,
    }),
    false,
  );
  assert.equal(
    csrfAllows({
      token,
      origin,
      request: req({ cookie: `${cookie}; saoe_viewer_csrf=${token}` }),
      formToken: token,
    }),
    false,
    "two cookies of the name are ambiguous",
  );
  assert.equal(cookieToken(null), undefined);
});

Deno.test("securityHeaders() adds a second policy without weakening the first", () => {
  const h = securityHeaders({ extraPolicy: "img-src http://127.0.0.1:1/output/img/x/" });
  assert.equal(
    h.get("content-security-policy"),
    `${VIEWER_CSP}, img-src http://127.0.0.1:1/output/img/x/`,
  );
  for (
    const d of [
      "default-src 'none'",
      "script-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'self'",
    ]
  ) {
    assert.ok(VIEWER_CSP.includes(d), d);
  }
});

Deno.test("the static script parses and never assigns markup", () => {
  new Function(VIEWER_JS);
  assert.doesNotMatch(VIEWER_JS, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
});
