/**
 * The intake web form: login with an operator credential, a session cookie and
 * CSRF token, the article form, served next to the API on intake's port.
 *
 * @module
 */
export * from "./headers.ts";
export * from "./assets.ts";
export * from "./cookies.ts";
export * from "./sessions.ts";
export * from "./login_limit.ts";
export * from "./form.ts";
export * from "./html.ts";
export * from "./pages.ts";
export * from "./handler.ts";
