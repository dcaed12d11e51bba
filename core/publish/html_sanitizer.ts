/**
 * Deployment's second sanitising pass over the article body: DOMPurify on jsdom
 * with exactly the allowlist of the `markdown_to_html` tool (its `sanitizeHtml`
 * is imported, not copied, so the two passes can never drift apart).
 *
 * Why it runs in the deployment process and not in a tool Worker: a Worker with
 * `deno: { permissions: "none" }` needs `--unstable-worker-options`, which the
 * capset → flags function gives only to agents whose capset names a tool, and
 * deployment's names none (it runs no plan). jsdom does run under deployment's
 * own flags once one obstacle is removed: its bundled undici reads
 * `process.env` at import, which `--deny-env` turns into `NotCapable`. Exactly as
 * ToolGate's worker entry does, `process.env` is replaced by a frozen empty
 * object before jsdom loads; `Deno.env` stays denied, and the agent reads no
 * environment anyway. jsdom then runs with deployment's narrow permissions
 * (no net, env, run, ffi or sys; read trust, its vault entries, `media/` and its
 * own folders; write `output/` and its own folders), and its input is HTML the
 * text_formatter already sanitised inside a no-permission Worker.
 *
 * The replacement is made only when env access is not granted, so a process
 * with env access (tests, tools) keeps its real environment.
 *
 * @module
 */

/** Sanitises HTML against the article allowlist. */
export type HtmlSanitizer = (html: string) => string;

let loading: Promise<HtmlSanitizer> | undefined;

async function load(): Promise<HtmlSanitizer> {
  const env = await Deno.permissions.query({ name: "env" });
  if (env.state !== "granted") {
    const { default: process } = await import("node:process");
    if (!Object.isFrozen(process.env)) {
      Object.defineProperty(process, "env", { value: Object.freeze({}), configurable: false });
    }
  }
  // loaded only now: a static import would read process.env before the line above
  const { sanitizeHtml } = await import("../toolgate/tools/markdown_to_html.ts");
  return sanitizeHtml;
}

/**
 * Loads the sanitiser once per process (later calls share the same promise).
 *
 * @example
 * ```ts
 * import { loadHtmlSanitizer } from "./html_sanitizer.ts";
 * const sanitize = await loadHtmlSanitizer();
 * if (sanitize('<p onclick="x()">a<script>1</script></p>') !== "<p>a</p>") throw new Error();
 * ```
 */
export function loadHtmlSanitizer(): Promise<HtmlSanitizer> {
  loading ??= load().catch((err: unknown) => {
    // a failed load (e.g. a missing permission) is retried on the next call
    loading = undefined;
    throw err;
  });
  return loading;
}
