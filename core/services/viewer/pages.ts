/**
 * The viewer's server-rendered pages. Every dynamic value passes through `esc`
 * (text and double-quoted attribute values alike); there is no inline script,
 * no inline style and no `style` attribute, so the policy of `headers.ts` needs
 * no exception. Pages work without JavaScript; `/static/viewer.js` adds live
 * rows from `main[data-stream]`.
 *
 * Stable hooks for browser tests and the intake form's links (keep them):
 * - every page: `header.site`, `nav#nav` with `a#nav-audit`, `a#nav-sessions`,
 *   `a#nav-articles`, `a#nav-ledger`, `a#nav-pipeline`; `span#live-status`
 *   (text `live` once the event stream is open); `main#main[data-page]`
 *   (`audit`, `sessions`, `session`, `articles`, `ledger`, `pipeline`, `error`),
 *   with `data-stream` on pages that update live.
 * - audit (`/`, `/audit`): `form#filter-form` (fields `session`, `type`, `agent`,
 *   `reason`, `limit`), `p#audit-summary`, `table#audit-table`, `tbody#audit-rows`
 *   of `tr.event.event-<type>[data-seq]` with cells `td.seq`, `td.at`, `td.type`,
 *   `td.agent`, `td.session` (`a.session-link`), `td.envelope`, `td.reason`,
 *   `td.detail`; `tr#audit-empty` when nothing matches; `a#newer-link`,
 *   `a#older-link`.
 * - sessions (`/sessions`): `table#sessions-table`, `tbody#sessions-rows` of
 *   `tr.session-row[data-session]` with `td.session`, `td.state > span.state`,
 *   `td.started`, `td.total`, `td.stages`, `td.article > a.article-link`;
 *   `tr#sessions-empty`; `a#older-link`.
 * - one session (`/sessions/<id>`): `#session-state[data-session]` (text
 *   `in progress`, `published`, `rejected` or `failed`, class
 *   `state state-<state>`), `a#article-link` (`hidden` until published),
 *   `table#stages-table`, and the session's `tbody#audit-rows` as above.
 * - articles (`/articles`): `ul#articles-list` of `li.article-card[data-session]`
 *   with `a.title`, `img.thumb`, `p.preview`; refused pages get `li.refused`.
 * - ledger (`/ledger`): `dd#ledger-size`, `dd#ledger-head`, `dd#ledger-checkpoint`,
 *   `form#verify-form` (hidden `csrf`, `button#verify-button`),
 *   `section#verify-result` with `p#verify-outcome.ok|.broken` and, when broken,
 *   `p#verify-first-bad[data-seq]`.
 * - pipeline (`/pipeline`): `p#pipeline-supervisor`, `table#pipeline-agents`
 *   of `tr.agent-row[data-agent]` with `td.name`, `td.state`, `td.restarts`,
 *   `td.queue`, `td.quarantine`; `p#pipeline-none` without a status file.
 * - error pages: `main[data-page="error"]`, `h1#error-title`.
 *
 * @module
 */
import { EVENT_TYPES } from "../../domain/ledger/events.ts";
import type { LedgerHead } from "../../domain/ledger/ledger.ts";
import type { SupervisorStatus } from "../supervisor/status.ts";
import type { ArticleSummary } from "./article_check.ts";
import { CSRF_FIELD } from "./csrf.ts";
import { esc } from "./html.ts";
import type { LastCheckpoint, VerificationRun } from "./ledger_status.ts";
import type { AuditFilter, AuditPage, AuditRow } from "./ledger_view.ts";
import { REASON_CODES } from "./params.ts";
import { SESSION_STATES, type SessionSummary } from "./sessions.ts";

/** The pages of the navigation bar. */
export type NavPage = "audit" | "sessions" | "articles" | "ledger" | "pipeline";

const NAV: readonly [NavPage, string, string][] = [
  ["audit", "/audit", "Audit trail"],
  ["sessions", "/sessions", "Sessions"],
  ["articles", "/articles", "Articles"],
  ["ledger", "/ledger", "Ledger"],
  ["pipeline", "/pipeline", "Pipeline"],
];

/** Options for {@linkcode layout}. */
export interface LayoutOptions {
  title: string;
  /** The `data-page` value. */
  page: string;
  nav?: NavPage;
  /** The event stream URL for live updates (built from validated values). */
  stream?: string;
  /** The page body (already HTML). */
  body: string;
}

/**
 * The document around every page.
 *
 * @example
 * ```ts
 * import { layout } from "./pages.ts";
 * const html = layout({ title: "<x>", page: "error", body: "<p>hi</p>" });
 * if (!html.includes("<title>&lt;x&gt; · SAOE viewer</title>")) throw new Error();
 * ```
 */
export function layout(options: LayoutOptions): string {
  const nav = NAV.map(([id, href, label]) =>
    `<a href="${href}" id="nav-${id}"${
      options.nav === id ? ' aria-current="page"' : ""
    }>${label}</a>`
  ).join("\n");
  const stream = options.stream === undefined ? "" : ` data-stream="${esc(options.stream)}"`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(options.title)} · SAOE viewer</title>
<link rel="stylesheet" href="/static/viewer.css">
<script src="/static/viewer.js" defer></script>
</head>
<body>
<header class="site">
<span class="brand">SAOE viewer</span>
<nav class="site" id="nav">
${nav}
</nav>
<span id="live-status" class="live-off">${options.stream === undefined ? "" : "static"}</span>
</header>
<main id="main" data-page="${esc(options.page)}"${stream}>
${options.body}
</main>
</body>
</html>
`;
}

/**
 * A duration for people: `850 ms`, `2.4 s`, `3 min 5 s`.
 *
 * @example
 * ```ts
 * import { duration } from "./pages.ts";
 * if (duration(850) !== "850 ms" || duration(2400) !== "2.4 s") throw new Error();
 * ```
 */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

function iso(ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : "—";
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const text = q.toString();
  return text === "" ? "" : `?${text}`;
}

function stateBadge(state: string): string {
  return `<span class="state state-${esc(state.replace(/[^a-z]+/g, "-"))}">${esc(state)}</span>`;
}

function sessionLink(id: string | undefined): string {
  return id === undefined
    ? ""
    : `<a class="session-link" href="/sessions/${esc(id)}">${esc(id)}</a>`;
}

/** One audit row (also the structure `viewer.js` builds for live rows). */
export function auditRow(row: AuditRow): string {
  const e = row.event;
  if (e === undefined) {
    return `<tr class="event event-undecodable" data-seq="${row.seq}"><td class="seq">${row.seq}</td><td class="undecodable" colspan="7">record does not decode as an audit event</td></tr>`;
  }
  return [
    `<tr class="event event-${esc(e.type)}" data-seq="${row.seq}">`,
    `<td class="seq">${row.seq}</td>`,
    `<td class="at">${esc(e.at)}</td>`,
    `<td class="type">${esc(e.type)}</td>`,
    `<td class="agent">${esc(e.agent)}</td>`,
    `<td class="session">${sessionLink(e.session_id)}</td>`,
    `<td class="envelope">${esc(e.envelope_id ?? "")}</td>`,
    `<td class="reason">${esc(e.reason ?? "")}</td>`,
    `<td class="detail">${e.detail === undefined ? "" : esc(JSON.stringify(e.detail))}</td>`,
    "</tr>",
  ].join("");
}

function auditTable(rows: readonly AuditRow[]): string {
  const body = rows.length === 0
    ? '<tr id="audit-empty"><td colspan="8" class="muted">No records match.</td></tr>'
    : rows.map(auditRow).join("\n");
  return `<table id="audit-table">
<thead><tr><th>seq</th><th>at</th><th>type</th><th>agent</th><th>session</th><th>envelope</th><th>reason</th><th>detail</th></tr></thead>
<tbody id="audit-rows">
${body}
</tbody>
</table>`;
}

function options(values: readonly string[], selected: string | undefined): string {
  return [
    '<option value="">any</option>',
    ...values.map((v) =>
      `<option value="${esc(v)}"${v === selected ? " selected" : ""}>${esc(v)}</option>`
    ),
  ].join("");
}

/** Options for {@linkcode auditPageHtml}. */
export interface AuditPageOptions {
  page: AuditPage;
  filter: AuditFilter;
  limit: number;
  before: number | undefined;
  /** Set on the newest page only: live rows are added at the top. */
  stream: string | undefined;
}

/** The audit trail page. */
export function auditPageHtml(o: AuditPageOptions): string {
  const f = o.filter;
  const common = { session: f.session, type: f.type, agent: f.agent, reason: f.reason };
  const limit = o.limit === DEFAULT_AUDIT_LIMIT ? undefined : o.limit;
  const pager = [
    o.before !== undefined
      ? `<a id="newer-link" href="/audit${esc(query({ ...common, limit }))}">Newest</a>`
      : "",
    o.page.olderBefore !== undefined
      ? `<a id="older-link" href="/audit${
        esc(query({ ...common, limit, before: o.page.olderBefore }))
      }">Older</a>`
      : "",
  ].join("");
  const body = `<h1>Audit trail</h1>
<form id="filter-form" class="filters" method="get" action="/audit">
<label>session<input name="session" id="filter-session" value="${
    esc(f.session ?? "")
  }" size="38" pattern="[0-9a-f\\-]{36}" autocomplete="off"></label>
<label>type<select name="type" id="filter-type">${options(EVENT_TYPES, f.type)}</select></label>
<label>agent<input name="agent" id="filter-agent" value="${
    esc(f.agent ?? "")
  }" size="16" pattern="[a-z][a-z0-9_]{0,31}" autocomplete="off"></label>
<label>reason<select name="reason" id="filter-reason">${
    options(REASON_CODES, f.reason)
  }</select></label>
<label>rows<input name="limit" id="filter-limit" type="number" min="1" max="${MAX_AUDIT_LIMIT}" value="${o.limit}"></label>
<button type="submit" id="filter-button">Filter</button>
<a href="/audit" id="filter-clear">Clear</a>
</form>
<p id="audit-summary" class="note">The ledger holds ${o.page.head.size} records. Showing ${o.page.rows.length}, newest first${
    o.before !== undefined ? `, below record ${o.before}` : ""
  }.</p>
${auditTable(o.page.rows)}
<div class="pager">${pager}</div>`;
  return layout({
    title: "Audit trail",
    page: "audit",
    nav: "audit",
    body,
    ...(o.stream !== undefined ? { stream: o.stream } : {}),
  });
}

/** Default rows per audit page. */
export const DEFAULT_AUDIT_LIMIT = 100;
/** Most rows per audit page (paging goes on past it). */
export const MAX_AUDIT_LIMIT = 1000;

function stagesText(s: SessionSummary): string {
  return s.stages.map((st) =>
    `<span class="stage" data-agent="${esc(st.agent)}">${esc(st.agent)} +${
      esc(duration(st.firstMs - s.startedMs))
    } (${esc(duration(st.lastMs - st.firstMs))})</span>`
  ).join(" · ");
}

function articleCell(s: SessionSummary): string {
  return s.state === "published"
    ? `<a class="article-link" href="/output/${esc(s.session)}/">article</a>`
    : "";
}

/** Options for {@linkcode sessionsPageHtml}. */
export interface SessionsPageOptions {
  sessions: readonly SessionSummary[];
  state: string | undefined;
  olderBefore: number | undefined;
  limit: number;
  stream: string | undefined;
  /** False while the viewer is still indexing the ledger at start. */
  complete: boolean;
}

/** The sessions page. */
export function sessionsPageHtml(o: SessionsPageOptions): string {
  const rows = o.sessions.length === 0
    ? '<tr id="sessions-empty"><td colspan="6" class="muted">No sessions yet.</td></tr>'
    : o.sessions.map((s) =>
      `<tr class="session-row" data-session="${esc(s.session)}"><td class="session">${
        sessionLink(s.session)
      }</td><td class="state">${stateBadge(s.state)}</td><td class="started">${
        esc(iso(s.startedMs))
      }</td><td class="total">${esc(duration(s.updatedMs - s.startedMs))}</td><td class="stages">${
        stagesText(s)
      }</td><td class="article">${articleCell(s)}</td></tr>`
    ).join("\n");
  const states = SESSION_STATES.map((s) => s.replace(" ", "-"));
  const older = o.olderBefore === undefined
    ? ""
    : `<a id="older-link" href="/sessions${
      esc(query({ state: o.state, limit: o.limit, before: o.olderBefore }))
    }">Older</a>`;
  const indexing = o.complete
    ? ""
    : '<p id="sessions-indexing" class="note">Still reading the ledger: older sessions appear shortly.</p>\n';
  const body = `<h1>Sessions</h1>
${indexing}<form id="sessions-filter" class="filters" method="get" action="/sessions">
<label>state<select name="state" id="filter-state">${options(states, o.state)}</select></label>
<button type="submit">Filter</button>
</form>
<table id="sessions-table">
<thead><tr><th>session</th><th>state</th><th>started</th><th>total</th><th>stages (agent +start (time spent))</th><th>article</th></tr></thead>
<tbody id="sessions-rows">
${rows}
</tbody>
</table>
<div class="pager">${older}</div>`;
  return layout({
    title: "Sessions",
    page: "sessions",
    nav: "sessions",
    body,
    ...(o.stream !== undefined ? { stream: o.stream } : {}),
  });
}

/** Options for {@linkcode sessionPageHtml}. */
export interface SessionPageOptions {
  session: string;
  summary: SessionSummary | undefined;
  rows: readonly AuditRow[];
  /** More records than shown: link to the filtered audit trail. */
  more: boolean;
  stream: string;
}

/** One session: its state (live), stage timings and audit trail. */
export function sessionPageHtml(o: SessionPageOptions): string {
  const s = o.summary;
  const state = s?.state ?? "in progress";
  const stages = s === undefined || s.stages.length === 0
    ? '<p class="muted" id="stages-none">No records for this session yet.</p>'
    : `<table id="stages-table"><thead><tr><th>agent</th><th>first event</th><th>after start</th><th>time spent</th><th>events</th></tr></thead><tbody>${
      s.stages.map((st) =>
        `<tr class="stage-row" data-agent="${esc(st.agent)}"><td class="agent">${
          esc(st.agent)
        }</td><td class="at">${esc(iso(st.firstMs))}</td><td class="offset">${
          esc(duration(st.firstMs - s.startedMs))
        }</td><td class="spent">${
          esc(duration(st.lastMs - st.firstMs))
        }</td><td class="events">${st.events}</td></tr>`
      ).join("")
    }</tbody></table>`;
  const more = o.more
    ? `<p><a id="session-audit-link" href="/audit${
      esc(query({ session: o.session }))
    }">All records of this session</a></p>`
    : "";
  const body = `<h1>Session <span class="session-id">${esc(o.session)}</span></h1>
<dl class="facts" id="session-facts">
<dt>state</dt><dd><span id="session-state" data-session="${esc(o.session)}" class="state state-${
    esc(state.replace(" ", "-"))
  }">${esc(state)}</span></dd>
<dt>started</dt><dd id="session-started">${esc(iso(s?.startedMs ?? 0))}</dd>
<dt>last event</dt><dd id="session-updated">${esc(iso(s?.updatedMs ?? 0))}</dd>
<dt>total</dt><dd id="session-total">${
    s === undefined ? "—" : esc(duration(s.updatedMs - s.startedMs))
  }</dd>
<dt>article</dt><dd><a id="article-link" href="/output/${esc(o.session)}/"${
    state === "published" ? "" : " hidden"
  }>open the article</a></dd>
</dl>
<h2>Stages</h2>
${stages}
<h2>Audit trail</h2>
${auditTable(o.rows)}
${more}`;
  return layout({
    title: `Session ${o.session}`,
    page: "session",
    nav: "sessions",
    body,
    stream: o.stream,
  });
}

/** One entry of the articles page. */
export interface ArticleCard {
  session: string;
  /** The summary, or why the page is not served. */
  summary: ArticleSummary | { refused: string };
}

/** The articles page. */
export function articlesPageHtml(
  cards: readonly ArticleCard[],
  olderPage: number | undefined,
): string {
  const items = cards.length === 0
    ? '<li id="articles-empty" class="muted">No published articles yet.</li>'
    : cards.map((c) => {
      const href = `/output/${esc(c.session)}/`;
      if ("refused" in c.summary) {
        return `<li class="article-card refused" data-session="${
          esc(c.session)
        }"><span class="title">${esc(c.session)}</span><p class="note">Not served: ${
          esc(c.summary.refused)
        }.</p></li>`;
      }
      const s = c.summary;
      const thumb = s.thumbnail === undefined
        ? ""
        : `<a href="${href}"><img class="thumb" src="/output/img/${esc(c.session)}/${
          esc(s.thumbnail)
        }" alt=""></a>`;
      return `<li class="article-card" data-session="${
        esc(c.session)
      }">${thumb}<a class="title" href="${href}">${
        esc(s.title === "" ? "(untitled)" : s.title)
      }</a><p class="preview">${esc(s.preview)}</p><small class="muted">${
        sessionLink(c.session)
      }</small></li>`;
    }).join("\n");
  const older = olderPage === undefined
    ? ""
    : `<a id="older-link" href="/articles?page=${olderPage}">Older</a>`;
  return layout({
    title: "Articles",
    page: "articles",
    nav: "articles",
    body:
      `<h1>Articles</h1>\n<ul id="articles-list" class="articles">\n${items}\n</ul>\n<div class="pager">${older}</div>`,
  });
}

/** Options for {@linkcode ledgerPageHtml}. */
export interface LedgerPageOptions {
  head: LedgerHead;
  checkpoint: LastCheckpoint;
  verification: VerificationRun | undefined;
  csrfToken: string;
}

function checkpointText(c: LastCheckpoint): string {
  switch (c.state) {
    case "none":
      return "none yet";
    case "verified":
      return `${c.treeSize} records, root ${c.root}, cosigned by ${
        c.cosigners.join(", ")
      } (signatures verified; saoe audit verify asks the witnesses themselves)`;
    case "invalid":
      return `does not verify: ${c.message}`;
  }
}

/** The ledger page. */
export function ledgerPageHtml(o: LedgerPageOptions): string {
  const v = o.verification;
  const result = v === undefined
    ? '<p id="verify-outcome" class="muted">Not verified yet in this viewer.</p>'
    : [
      `<p id="verify-outcome" class="${v.result.ok ? "ok" : "broken"}" data-ok="${v.result.ok}">${
        v.result.ok ? "ok" : "broken"
      }: ${esc(v.result.message)}</p>`,
      v.result.firstBad === undefined
        ? ""
        : `<p id="verify-first-bad" data-seq="${v.result.firstBad.seq}" data-reason="${
          esc(v.result.firstBad.reason)
        }">First bad record: seq ${v.result.firstBad.seq} (${
          esc(v.result.firstBad.reason)
        }); the records before it verified.</p>`,
      `<p class="note" id="verify-at">Checked ${v.result.checked} records and ${v.result.checkpoints} checkpoints at ${
        esc(iso(v.finishedMs))
      }.</p>`,
    ].join("\n");
  const body = `<h1>Ledger</h1>
<dl class="facts" id="ledger-facts">
<dt>records</dt><dd id="ledger-size">${o.head.size}</dd>
<dt>head hash</dt><dd id="ledger-head">${esc(o.head.hash)}</dd>
<dt>last witnessed checkpoint</dt><dd id="ledger-checkpoint" data-state="${o.checkpoint.state}">${
    esc(checkpointText(o.checkpoint))
  }</dd>
</dl>
<form id="verify-form" method="post" action="/ledger/verify">
<input type="hidden" name="${CSRF_FIELD}" value="${esc(o.csrfToken)}">
<button type="submit" id="verify-button">Verify the whole ledger</button>
</form>
<section id="verify-result">
<h2>Verification</h2>
${result}
</section>`;
  return layout({ title: "Ledger", page: "ledger", nav: "ledger", body });
}

/** The pipeline page. */
export function pipelinePageHtml(status: SupervisorStatus | undefined): string {
  if (status === undefined) {
    return layout({
      title: "Pipeline",
      page: "pipeline",
      nav: "pipeline",
      body:
        '<h1>Pipeline</h1>\n<p id="pipeline-none">No supervisor status yet (audit/status.json is missing).</p>',
    });
  }
  const rows = status.agents.map((a) => {
    const exit = a.last_exit === undefined
      ? ""
      : a.last_exit.signal ?? (a.last_exit.code !== undefined
        ? `code ${a.last_exit.code}`
        : `spawn failed: ${a.last_exit.error ?? ""}`);
    return `<tr class="agent-row" data-agent="${esc(a.name)}"><td class="name">${
      esc(a.name)
    }</td><td class="state">${esc(a.state)}</td><td class="pid">${
      a.pid ?? ""
    }</td><td class="restarts">${a.restarts}</td><td class="started">${
      esc(a.started_at ?? "")
    }</td><td class="last-exit">${esc(exit)}</td><td class="queue">${
      a.queue_depth ?? "unknown"
    }</td><td class="quarantine">${a.dead_letters ?? "unknown"}</td></tr>`;
  }).join("\n");
  const body = `<h1>Pipeline</h1>
<p id="pipeline-supervisor">Supervisor pid ${status.pid}: ${esc(status.state)} since ${
    esc(status.started_at)
  }, status updated ${esc(status.updated_at)}.</p>
<table id="pipeline-agents">
<thead><tr><th>agent</th><th>state</th><th>pid</th><th>restarts</th><th>started</th><th>last exit</th><th>queue depth</th><th>quarantined</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p class="note" id="pipeline-note">Queue depths and dead letters as of the supervisor's last status update (the viewer may not read other agents' folders; <code>saoe status</code> counts them live).</p>`;
  return layout({ title: "Pipeline", page: "pipeline", nav: "pipeline", body });
}

/**
 * An error page: a fixed title and message chosen by the handler, never text
 * from the request.
 */
export function errorPageHtml(status: number, title: string, message: string): string {
  return layout({
    title: `${status} ${title}`,
    page: "error",
    body: `<div class="error-page"><h1 id="error-title">${status} ${
      esc(title)
    }</h1>\n<p id="error-message">${
      esc(message)
    }</p>\n<p><a href="/audit">Back to the audit trail</a></p></div>`,
  });
}
