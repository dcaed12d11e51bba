/**
 * The viewer's two static files, served from memory at `/static/viewer.js` and
 * `/static/viewer.css` (the viewer process may read nothing of the repository
 * at run time, and CSP forbids inline script and style).
 *
 * The script only adds live updates to pages that already work without it: it
 * opens the server-sent event stream named by `main[data-stream]` and inserts
 * each record with `textContent` and `createElement` — never `innerHTML` — so a
 * field of an event is text in the page whatever it contains. Identifiers it
 * puts into a URL or a selector are checked against the same patterns as on the
 * server first.
 *
 * @module
 */

/** `/static/viewer.js`. */
export const VIEWER_JS = `"use strict";
(function () {
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  var WORD = /^[a-z][a-z0-9_]{0,63}$/;
  var MAX_ROWS = 500;

  function text(tag, className, value) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (value !== undefined && value !== null) el.textContent = String(value);
    return el;
  }

  function sessionCell(id) {
    var td = text("td", "session");
    if (typeof id === "string" && UUID.test(id)) {
      var a = text("a", "session-link", id);
      a.href = "/sessions/" + id;
      td.appendChild(a);
    }
    return td;
  }

  function recordRow(r) {
    var tr = document.createElement("tr");
    var type = typeof r.type === "string" && WORD.test(r.type) ? r.type : "undecodable";
    tr.className = "event event-" + type + " live";
    tr.setAttribute("data-seq", String(Number(r.seq)));
    tr.appendChild(text("td", "seq", Number(r.seq)));
    if (r.undecodable) {
      var td = text("td", "undecodable", "record does not decode as an audit event");
      td.colSpan = 7;
      tr.appendChild(td);
      return tr;
    }
    tr.appendChild(text("td", "at", r.at));
    tr.appendChild(text("td", "type", r.type));
    tr.appendChild(text("td", "agent", r.agent));
    tr.appendChild(sessionCell(r.session_id));
    tr.appendChild(text("td", "envelope", r.envelope_id));
    tr.appendChild(text("td", "reason", r.reason));
    tr.appendChild(text("td", "detail", r.detail === undefined ? "" : JSON.stringify(r.detail)));
    return tr;
  }

  function onRecord(e) {
    var rows = document.getElementById("audit-rows");
    if (!rows) return;
    var r = JSON.parse(e.data);
    if (rows.querySelector('tr[data-seq="' + String(Number(r.seq)) + '"]')) return;
    var empty = document.getElementById("audit-empty");
    if (empty) empty.remove();
    rows.insertBefore(recordRow(r), rows.firstChild);
    while (rows.children.length > MAX_ROWS) rows.lastElementChild.remove();
  }

  function stateClass(state) {
    return "state state-" + String(state).replace(/[^a-z]+/g, "-");
  }

  function onSession(e) {
    var s = JSON.parse(e.data);
    if (typeof s.session !== "string" || !UUID.test(s.session)) return;
    var state = document.getElementById("session-state");
    if (state && state.getAttribute("data-session") === s.session) {
      state.textContent = s.state;
      state.className = stateClass(s.state);
      var link = document.getElementById("article-link");
      if (link && s.state === "published") {
        link.href = "/output/" + s.session + "/";
        link.hidden = false;
      }
    }
    var table = document.getElementById("sessions-rows");
    if (!table) return;
    var row = table.querySelector('tr[data-session="' + s.session + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.className = "session-row live";
      row.setAttribute("data-session", s.session);
      row.appendChild(sessionCell(s.session));
      row.appendChild(text("td", "state"));
      row.appendChild(text("td", "started", s.started_at));
      row.appendChild(text("td", "total"));
      row.appendChild(text("td", "stages"));
      row.appendChild(text("td", "article"));
      table.insertBefore(row, table.firstChild);
      var empty = document.getElementById("sessions-empty");
      if (empty) empty.remove();
    }
    var cell = row.querySelector("td.state");
    if (cell) {
      cell.textContent = "";
      cell.appendChild(text("span", stateClass(s.state), s.state));
    }
    var total = row.querySelector("td.total");
    if (total && typeof s.total_ms === "number") total.textContent = s.total_ms + " ms";
    var article = row.querySelector("td.article");
    if (article && s.state === "published" && !article.querySelector("a")) {
      var a = text("a", "article-link", "article");
      a.href = "/output/" + s.session + "/";
      article.appendChild(a);
    }
  }

  function start() {
    var main = document.querySelector("main[data-stream]");
    var status = document.getElementById("live-status");
    if (!main || typeof EventSource === "undefined") return;
    var url = main.getAttribute("data-stream");
    if (!url || url.charAt(0) !== "/" || url.charAt(1) === "/") return;
    var source = new EventSource(url);
    source.addEventListener("open", function () {
      if (status) { status.textContent = "live"; status.className = "live-on"; }
    });
    source.addEventListener("error", function () {
      if (status) { status.textContent = "reconnecting"; status.className = "live-off"; }
    });
    source.addEventListener("record", onRecord);
    source.addEventListener("session", onSession);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
`;

/** `/static/viewer.css`. */
export const VIEWER_CSS =
  `:root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header.site { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); }
header.site .brand { font-weight: 700; }
nav.site a { margin-right: 1rem; text-decoration: none; color: var(--accent); }
nav.site a[aria-current="page"] { font-weight: 700; text-decoration: underline; }
main { padding: 1rem 1.2rem 3rem; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.detail, td.envelope, td.session { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
td.detail { max-width: 40rem; white-space: pre-wrap; }
tr.event-rejected, tr.event-plan_rejected, tr.event-intake_refused, tr.event-handler_error, tr.event-sandbox_violation { background: rgba(220, 38, 38, .08); }
tr.event-published { background: rgba(22, 163, 74, .08); }
tr.live { animation: flash 1.5s ease-out; }
@keyframes flash { from { background: rgba(37, 99, 235, .25); } }
.state { padding: .05rem .45rem; border-radius: .6rem; border: 1px solid var(--line); white-space: nowrap; }
.state-published { border-color: #16a34a; color: #15803d; }
.state-rejected, .state-failed { border-color: #dc2626; color: #b91c1c; }
.state-in-progress { border-color: #d97706; color: #b45309; }
form.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
.pager { margin: 1rem 0; display: flex; gap: 1rem; }
.muted, .note { color: var(--muted); }
#live-status { font-size: 12px; }
.live-on { color: #15803d; }
.live-off { color: #b45309; }
ul.articles { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: 1rem; }
li.article-card { border: 1px solid var(--line); border-radius: .5rem; padding: .8rem; }
li.article-card img.thumb { width: 100%; height: 10rem; object-fit: cover; border-radius: .3rem; }
li.article-card .title { font-weight: 600; display: block; margin: .4rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
.ok { color: #15803d; font-weight: 600; }
.broken { color: #b91c1c; font-weight: 600; }
.error-page p { max-width: 40rem; }
`;
