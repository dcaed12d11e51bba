/**
 * The form's static files, compiled in: the stylesheet (the CSP allows styles
 * only from this origin, never inline) and the icon. Serving them from memory
 * means intake needs no read access to the repository at run time.
 *
 * @module
 */

/** A static file served under `/static/`. */
export interface StaticAsset {
  contentType: string;
  body: string;
}

const STYLESHEET = `:root { color-scheme: light; --ink: #1d2430; --muted: #5b6576; --line: #d5dae3;
  --accent: #1f5fbf; --bad: #b3261e; --ok: #1b7f3b; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--ink); background: #f5f7fa; }
header { background: var(--ink); color: #fff; padding: 0.75rem 1.5rem; display: flex;
  align-items: center; gap: 1rem; }
header h1 { font-size: 1.1rem; margin: 0; flex: 1; }
header img { width: 28px; height: 28px; }
header form { margin: 0; }
header button { background: transparent; color: #fff; border: 1px solid #fff; }
main { max-width: 44rem; margin: 2rem auto; padding: 1.5rem 2rem; background: #fff;
  border: 1px solid var(--line); border-radius: 8px; }
h2 { margin-top: 0; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input[type=text], input[type=password], textarea { width: 100%; padding: 0.5rem;
  border: 1px solid var(--line); border-radius: 4px; font: inherit; }
textarea { min-height: 14rem; font-family: ui-monospace, monospace; }
input[type=file] { margin-top: 0.25rem; }
button { margin-top: 1.25rem; padding: 0.5rem 1.25rem; border: 0; border-radius: 4px;
  background: var(--accent); color: #fff; font: inherit; cursor: pointer; }
.hint { color: var(--muted); font-size: 0.875rem; margin: 0.25rem 0 0; }
.field-error, .form-error { color: var(--bad); font-weight: 600; margin: 0.25rem 0 0; }
.form-error { border: 1px solid var(--bad); border-radius: 4px; padding: 0.5rem 0.75rem; }
.accepted { color: var(--ok); }
code { background: #eef1f5; padding: 0.1rem 0.3rem; border-radius: 3px; word-break: break-all; }
footer { text-align: center; color: var(--muted); font-size: 0.8rem; margin-bottom: 2rem; }
`;

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32">
<rect width="32" height="32" rx="6" fill="#1f5fbf"/>
<path d="M9 17l5 5 9-11" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round"/>
</svg>
`;

/** Static files by path. */
export const STATIC_ASSETS: ReadonlyMap<string, StaticAsset> = new Map([
  ["/static/intake.css", { contentType: "text/css; charset=utf-8", body: STYLESHEET }],
  ["/static/icon.svg", { contentType: "image/svg+xml", body: ICON }],
]);
