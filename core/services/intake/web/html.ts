/**
 * HTML escaping and the page frame. Every value placed in a page goes through
 * {@linkcode escapeHtml}, in text and in (always double-quoted) attributes alike;
 * pages have no inline script and no `style` attribute, so the CSP allows neither.
 *
 * @module
 */

export { escapeHtml } from "../../../primitives/web/escape.ts";
import { escapeHtml } from "../../../primitives/web/escape.ts";

/** What a page frame holds. */
export interface FrameOptions {
  /** The `<title>` (escaped here). */
  title: string;
  /** The `<main>` content, already escaped HTML. */
  main: string;
  /** The session's CSRF token: shows the logout button when logged in. */
  logoutCsrf?: string;
}

/**
 * A complete page around already-escaped `main` content.
 *
 * @example
 * ```ts
 * import { frame } from "./html.ts";
 * const page = frame({ title: "<x>", main: "<p>hi</p>" });
 * if (!page.includes("<title>&lt;x&gt; · SAOE intake</title>")) throw new Error();
 * ```
 */
export function frame(options: FrameOptions): string {
  const logout = options.logoutCsrf === undefined ? "" : `
    <form id="logout-form" method="post" action="/logout">
      <input type="hidden" name="csrf" value="${escapeHtml(options.logoutCsrf)}">
      <button id="logout-button" type="submit">Log out</button>
    </form>`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(options.title)} · SAOE intake</title>
  <link rel="stylesheet" href="/static/intake.css">
  <link rel="icon" href="/static/icon.svg" type="image/svg+xml">
</head>
<body>
  <header>
    <img src="/static/icon.svg" alt="">
    <h1>SAOE intake</h1>${logout}
  </header>
  <main>
${options.main}
  </main>
  <footer>Submissions are signed, sanitised and audited before anything is published.</footer>
</body>
</html>
`;
}
