/**
 * The viewer (design section 8): a read-only web console on one loopback port
 * for the audit trail, sessions, articles and their images, ledger verification
 * and the pipeline's agents, with live updates over server-sent events.
 *
 * @module
 */
export { startViewer } from "./server.ts";
export { createViewerHandler, type ViewerHandler, type ViewerHandlerOptions } from "./handler.ts";
export { securityHeaders, VIEWER_CSP } from "./headers.ts";
export { type ArticleCheck, checkArticleHtml, summarizeArticle } from "./article_check.ts";
export { LedgerView } from "./ledger_view.ts";
export { LedgerTail } from "./live.ts";
export { SessionIndex, type SessionState, type SessionSummary } from "./sessions.ts";
