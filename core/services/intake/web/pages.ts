/**
 * The intake web form's pages, server-rendered. Element ids the browser tests
 * (and anyone scripting the form) rely on:
 *
 * - login: `form#login-form` (POST /login), `input#credential`, `button#login-submit`,
 *   `p#login-error.form-error` after a refused login;
 * - submit: `form#submit-form` (POST /submit, multipart), `input#csrf` (hidden),
 *   `input#title`, `textarea#markdown`, `input#image-1`, `input#image-2` (both
 *   named `images`), `button#submit-button`; after a refusal `p#title-error`,
 *   `p#markdown-error`, `p#images-error` (class `field-error`) or `p#form-error`
 *   (class `form-error`);
 * - accepted: `code#session-id`, `a#viewer-link` (the session in the viewer),
 *   `a#submit-another`;
 * - any page when logged in: `form#logout-form` (POST /logout) with `button#logout-button`;
 * - error pages: `h2#error-title`, `p#error-message`, `code#error-reason`.
 *
 * @module
 */
import { MAX_IMAGES, MAX_TITLE_CODE_POINTS } from "../limits.ts";
import { escapeHtml, frame } from "./html.ts";
import type { FormField } from "./form.ts";

/**
 * The login page, with an error message after a refused attempt.
 *
 * @example
 * ```ts
 * import { loginPage } from "./pages.ts";
 * if (!loginPage("<b>").includes("&lt;b&gt;")) throw new Error();
 * ```
 */
export function loginPage(error?: string): string {
  const message = error === undefined
    ? ""
    : `\n    <p id="login-error" class="form-error">${escapeHtml(error)}</p>`;
  return frame({
    title: "Log in",
    main: `    <h2>Log in</h2>
    <p class="hint">Use an operator credential (<code>keys/operator-&lt;id&gt;.token</code> in the home).</p>${message}
    <form id="login-form" method="post" action="/login">
      <label for="credential">Operator credential</label>
      <input id="credential" name="credential" type="password" autocomplete="off" required>
      <button id="login-submit" type="submit">Log in</button>
    </form>`,
  });
}

/** What the article form shows. */
export interface SubmitPageOptions {
  csrf: string;
  /** The logged-in credential's id. */
  credentialId: string;
  /** Values to keep after a refusal. */
  title?: string;
  markdown?: string;
  /** Messages by field after a refusal. */
  errors?: Partial<Record<FormField, string>>;
}

function fieldError(field: FormField, errors: Partial<Record<FormField, string>>): string {
  const message = errors[field];
  if (message === undefined) return "";
  const cls = field === "form" ? "form-error" : "field-error";
  return `\n      <p id="${field}-error" class="${cls}">${escapeHtml(message)}</p>`;
}

/**
 * The article form.
 *
 * @example
 * ```ts
 * import { submitPage } from "./pages.ts";
 * const page = submitPage({ csrf: "t", credentialId: "ops", errors: { title: "Too long" } });
 * if (!page.includes('id="title-error"')) throw new Error();
 * ```
 */
export function submitPage(options: SubmitPageOptions): string {
  const errors = options.errors ?? {};
  const csrf = escapeHtml(options.csrf);
  const images = Array.from({ length: MAX_IMAGES }, (_, i) => `
      <input id="image-${i + 1}" name="images" type="file" accept="image/png,image/jpeg">`).join(
    "",
  );
  return frame({
    title: "New article",
    logoutCsrf: options.csrf,
    main: `    <h2>New article</h2>
    <p class="hint">Logged in as <code id="credential-id">${
      escapeHtml(options.credentialId)
    }</code>.</p>${fieldError("form", errors)}
    <form id="submit-form" method="post" action="/submit" enctype="multipart/form-data">
      <input id="csrf" type="hidden" name="csrf" value="${csrf}">
      <label for="title">Title</label>
      <input id="title" name="title" type="text" maxlength="${MAX_TITLE_CODE_POINTS}" required value="${
      escapeHtml(options.title ?? "")
    }">${fieldError("title", errors)}
      <label for="markdown">Body (Markdown)</label>
      <textarea id="markdown" name="markdown">${escapeHtml(options.markdown ?? "")}</textarea>${
      fieldError("markdown", errors)
    }
      <label for="image-1">Images (up to ${MAX_IMAGES}, JPEG or PNG, at most 20 MiB each)</label>${images}${
      fieldError("images", errors)
    }
      <button id="submit-button" type="submit">Submit</button>
    </form>`,
  });
}

/** What the confirmation shows. */
export interface AcceptedPageOptions {
  csrf: string;
  sessionId: string;
  imageCount: number;
  /** The session's page in the viewer. */
  viewerLink: string;
}

/**
 * The confirmation after an accepted submission.
 *
 * @example
 * ```ts
 * import { acceptedPage } from "./pages.ts";
 * const page = acceptedPage({
 *   csrf: "t", sessionId: "s", imageCount: 1, viewerLink: "http://127.0.0.1:8080/sessions/s",
 * });
 * if (!page.includes('id="viewer-link"')) throw new Error();
 * ```
 */
export function acceptedPage(options: AcceptedPageOptions): string {
  const images = options.imageCount === 1 ? "1 image" : `${options.imageCount} images`;
  return frame({
    title: "Submission accepted",
    logoutCsrf: options.csrf,
    main: `    <h2 class="accepted">Submission accepted</h2>
    <p>Session <code id="session-id">${escapeHtml(options.sessionId)}</code> (${images}).</p>
    <p><a id="viewer-link" href="${
      escapeHtml(options.viewerLink)
    }">Follow this session in the viewer</a>: it updates live until the article is published.</p>
    <p><a id="submit-another" href="/submit">Submit another article</a></p>`,
  });
}

/** What an error page shows. */
export interface ErrorPageOptions {
  status: number;
  message: string;
  reason: string;
  /** Shows the logout button and a link back to the form. */
  csrf?: string;
}

const STATUS_TITLES: Readonly<Record<number, string>> = {
  400: "Bad request",
  401: "Not logged in",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  413: "Too large",
  415: "Unsupported media type",
  421: "Misdirected request",
  429: "Too many requests",
  500: "Internal error",
  503: "Pipeline busy",
};

/**
 * An error page (the message and reason code, escaped).
 *
 * @example
 * ```ts
 * import { errorPage } from "./pages.ts";
 * const page = errorPage({ status: 403, message: "No", reason: "bad_credential" });
 * if (!page.includes('<code id="error-reason">bad_credential</code>')) throw new Error();
 * ```
 */
export function errorPage(options: ErrorPageOptions): string {
  const title = STATUS_TITLES[options.status] ?? "Refused";
  const back = options.csrf === undefined
    ? `<a id="back-link" href="/login">Log in</a>`
    : `<a id="back-link" href="/submit">Back to the form</a>`;
  return frame({
    title,
    ...(options.csrf !== undefined ? { logoutCsrf: options.csrf } : {}),
    main: `    <h2 id="error-title">${options.status} ${escapeHtml(title)}</h2>
    <p id="error-message">${escapeHtml(options.message)}</p>
    <p class="hint">Reason: <code id="error-reason">${escapeHtml(options.reason)}</code></p>
    <p>${back}</p>`,
  });
}
