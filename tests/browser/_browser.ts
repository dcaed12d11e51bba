/**
 * Real-browser test harness: Debian's headless Chromium driven by
 * `playwright-core` (which runs under Deno: it launches the browser over a pipe
 * with `node:child_process`), a real pipeline (supervisor, every agent, intake
 * and viewer on free loopback ports) in a fresh home, and a watch on each page
 * for anything an injected payload would cause: a dialog, a console error, an
 * uncaught page error, or the sentinel global `window.__xss` that every payload
 * of the XSS corpus tries to set.
 *
 * Everything returned is `AsyncDisposable`: `await using` closes the browser and
 * stops the pipeline even when an assertion fails. Set `SAOE_SCREENSHOTS=1` to
 * (re)write the README's screenshots in `docs/screenshots/`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Browser, chromium, type Page, type Response } from "playwright-core";
import { readOperatorToken } from "../../core/domain/keys/operator_token.ts";
import type { JsonObject } from "../../core/primitives/json/strict_parse.ts";
import {
  makeTestHome,
  REPO,
  startTestSupervisor,
  type TestHome,
  type TestSupervisor,
} from "../supervisor/_harness.ts";

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it when missing). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a quiet, offline, sandbox-less headless run (tests run as root). */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launches headless Chromium; disposing closes it. */
export async function launchBrowser(): Promise<Browser & AsyncDisposable> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS],
    timeout: 30_000,
  });
  return Object.assign(browser, {
    async [Symbol.asyncDispose]() {
      await browser.close().catch(() => {});
    },
  });
}

/** What a page did that an inert page never does. */
export interface PageWatch {
  dialogs: string[];
  consoleErrors: string[];
  pageErrors: string[];
  /** Every response the page received (documents, styles, scripts, images, streams). */
  responses: Response[];
}

/** Records dialogs (dismissed at once), console errors, page errors and responses. */
export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { dialogs: [], consoleErrors: [], pageErrors: [], responses: [] };
  page.on("dialog", (dialog) => {
    watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const source = message.location().url;
    // the browser's own favicon probe of a page without an icon is not the page's doing
    if (source !== "" && new URL(source).pathname === "/favicon.ico") return;
    watch.consoleErrors.push(`${message.text()} (${source})`);
  });
  page.on("pageerror", (error) => watch.pageErrors.push(error.message));
  page.on("response", (response) => watch.responses.push(response));
  return watch;
}

/**
 * The little of the DOM that code run in the page (`page.evaluate`) uses, typed
 * here because the project type-checks without the DOM library.
 */
export interface MiniElement {
  tagName: string;
  outerHTML: string;
  textContent: string | null;
  value: string;
  attributes: ArrayLike<{ name: string; value: string }>;
  getAttribute(name: string): string | null;
}

/** The page's `document`, as far as tests use it. */
export interface MiniDocument {
  querySelectorAll(selector: string): ArrayLike<MiniElement>;
  getElementById(id: string): MiniElement | null;
  images: ArrayLike<MiniElement & { complete: boolean; naturalWidth: number }>;
}

/** Chromium's console line for a response with an error status (not a script's doing). */
const HTTP_STATUS_CONSOLE_RE = /^Failed to load resource: the server responded with a status of/;

/**
 * Asserts that nothing ran: no dialog, no console or page error, the sentinel
 * unset. `allowHttpErrors` tolerates Chromium's own line about a 4xx page the
 * test asked for.
 */
export async function assertInert(
  page: Page,
  watch: PageWatch,
  where: string,
  options: { allowHttpErrors?: boolean } = {},
): Promise<void> {
  const sentinel = await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss);
  assert.equal(sentinel, undefined, `${where}: an injected script set window.__xss`);
  assert.deepEqual(watch.dialogs, [], `${where}: a dialog opened`);
  assert.deepEqual(watch.pageErrors, [], `${where}: a page error`);
  const errors = options.allowHttpErrors === true
    ? watch.consoleErrors.filter((line) => !HTTP_STATUS_CONSOLE_RE.test(line))
    : watch.consoleErrors;
  assert.deepEqual(errors, [], `${where}: a console error`);
}

/**
 * Active content in the current document: script elements other than the
 * viewer's own file, event-handler attributes, `javascript:` URLs, frames and
 * plugins. An inert page has none.
 */
export async function activeContent(page: Page): Promise<string[]> {
  return await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: MiniDocument }).document;
    const found: string[] = [];
    for (const el of Array.from(doc.querySelectorAll("*"))) {
      const tag = el.tagName.toLowerCase();
      if (tag === "script" && el.getAttribute("src") !== "/static/viewer.js") {
        found.push(`<script> ${el.outerHTML.slice(0, 80)}`);
      }
      if (["iframe", "frame", "object", "embed", "base"].includes(tag)) found.push(`<${tag}>`);
      // a page's own policy in a meta tag is fine; a refresh (to a javascript: URL) is not
      const equiv = tag === "meta" ? el.getAttribute("http-equiv") : null;
      if (equiv !== null && equiv.toLowerCase() !== "content-security-policy") {
        found.push(el.outerHTML.slice(0, 120));
      }
      for (const attr of Array.from(el.attributes)) {
        const name = attr.name.toLowerCase();
        if (name.startsWith("on")) found.push(`${tag}[${name}]`);
        if (/^\s*(javascript|vbscript|data):/i.test(attr.value) && name !== "content") {
          found.push(`${tag}[${name}=${attr.value.slice(0, 40)}]`);
        }
      }
    }
    return found;
  });
}

/**
 * Screenshots the viewport of `page`; writes `docs/screenshots/<name>.png` when
 * `SAOE_SCREENSHOTS=1`. Returns the PNG bytes.
 */
export async function screenshot(page: Page, name: string): Promise<Uint8Array> {
  const bytes = await page.screenshot({ type: "png" });
  assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "a PNG screenshot");
  if (Deno.env.get("SAOE_SCREENSHOTS") === "1") {
    await Deno.writeFile(join(REPO, "docs", "screenshots", `${name}.png`), bytes);
  }
  return bytes;
}

/** A running pipeline with intake and viewer on ports the system assigned. */
export interface BrowserPipeline extends AsyncDisposable {
  t: TestHome;
  sup: TestSupervisor;
  /** `http://127.0.0.1:<port>` of the intake form. */
  intakeUrl: string;
  /** `http://127.0.0.1:<port>` of the viewer. */
  viewerUrl: string;
  /** The person credential `saoe init` created. */
  credential: string;
}

/** Options for {@linkcode startBrowserPipeline}. */
export interface BrowserPipelineOptions {
  /** Runs on the fresh home before the supervisor starts (e.g. to seed the ledger). */
  beforeStart?: (t: TestHome) => Promise<void>;
  /** Edits of capset sources before init, by agent. */
  capsetEdits?: Readonly<Record<string, (source: JsonObject) => void>>;
}

/** Starts a full pipeline in a fresh home for a browser test. */
export async function startBrowserPipeline(
  options: BrowserPipelineOptions = {},
): Promise<BrowserPipeline> {
  // intake and the viewer on ports the system assigns; the supervisor reports them
  const t = await makeTestHome({
    ...(options.capsetEdits !== undefined ? { capsetEdits: options.capsetEdits } : {}),
  });
  let sup: TestSupervisor | undefined;
  try {
    await options.beforeStart?.(t);
    sup = await startTestSupervisor(t);
    const credential = await readOperatorToken(t.home.keys, "operator");
    const running = sup;
    const { intakeUrl, viewerUrl } = running.supervisor;
    if (intakeUrl === undefined || viewerUrl === undefined) {
      throw new Error("The pipeline reported no intake or viewer address");
    }
    return {
      t,
      sup: running,
      intakeUrl,
      viewerUrl,
      credential,
      async [Symbol.asyncDispose]() {
        try {
          await running[Symbol.asyncDispose]();
        } finally {
          await t[Symbol.asyncDispose]();
        }
      },
    };
  } catch (err: unknown) {
    if (sup !== undefined) await Promise.resolve(sup[Symbol.asyncDispose]()).catch(() => {});
    await t[Symbol.asyncDispose]();
    throw err;
  }
}

/** Waits until the URL answers (the agents listen shortly after they report up). */
export async function waitForHttp(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { redirect: "manual" });
      await res.body?.cancel();
      return;
    } catch (err: unknown) {
      if (Date.now() > deadline) throw err;
      // paces the retries; the loop ends on an answer or the deadline
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
