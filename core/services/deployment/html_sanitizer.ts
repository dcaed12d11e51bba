/**
 * Deployment's second sanitising pass over the article body: DOMPurify on jsdom
 * with exactly the allowlist of the `markdown_to_html` tool (its
 * `ALLOWED_TAGS`, `ALLOWED_URL_RE` and `LINK_REL` are imported, not copied, so the
 * two layers can never drift apart). The tool renders within that allowlist and
 * verifies its output without a DOM; this pass is the independent second layer,
 * in another process.
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
import {
  ALLOWED_TAGS,
  ALLOWED_URL_RE,
  LINK_REL,
} from "../../domain/toolgate/tools/markdown_to_html.ts";

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
  const [{ JSDOM }, { default: createDOMPurify }] = await Promise.all([
    import("jsdom"),
    import("dompurify"),
  ]);
  const purify = createDOMPurify(new JSDOM("<!doctype html><html><body></body></html>").window);
  purify.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName !== "A") return;
    const href = node.getAttribute("href");
    // DOMPurify already drops a disallowed URL; this re-check keeps the rule in one place
    if (href !== null && !ALLOWED_URL_RE.test(href)) node.removeAttribute("href");
    // a published link must not hand the reader's page to the target (reverse tabnabbing)
    node.setAttribute("rel", LINK_REL);
  });
  return (html: string): string =>
    purify.sanitize(html, {
      ALLOWED_TAGS: [...ALLOWED_TAGS],
      ALLOWED_ATTR: ["href"],
      ALLOWED_URI_REGEXP: ALLOWED_URL_RE,
      ALLOW_DATA_ATTR: false,
      ALLOW_ARIA_ATTR: false,
      ALLOW_UNKNOWN_PROTOCOLS: false,
      ALLOW_SELF_CLOSE_IN_ATTR: false,
      SAFE_FOR_XML: true,
      WHOLE_DOCUMENT: false,
      RETURN_DOM: false,
      RETURN_DOM_FRAGMENT: false,
      RETURN_TRUSTED_TYPE: false,
    });
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
