/**
 * Fixtures for the viewer's tests: a home whose ledger is seeded as the
 * supervisor would write it (its own checkpoint key, the home's log origin), published
 * pages planted as deployment writes them (`renderArticlePage`) with the
 * `published` event that vouches for their bytes ({@linkcode publishedEvent}), the real
 * supervisor running the real viewer process with its exact capset flags on a
 * port the system assigns, and HTTP helpers (fetch, and raw requests for what fetch would
 * normalise away: a foreign Host header, dot segments).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex, utf8 } from "../../core/primitives/crypto/bytes.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { ledgerPath } from "../../core/domain/home/layout.ts";
import { buildEvent, encodeEvent, type EventFields } from "../../core/domain/ledger/events.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { logOrigin } from "../../core/domain/ledger/log_identity.ts";
import { renderArticlePage } from "../../core/services/deployment/page.ts";
import { VIEWER_CSP } from "../../core/services/viewer/headers.ts";
import {
  makeTestHome,
  startTestSupervisor,
  type TestHome,
  type TestSupervisor,
  waitFor,
  waitUntilUp,
} from "../supervisor/_harness.ts";

/** Options for tests that spawn processes. */
export const processTest = { sanitizeOps: false, sanitizeResources: false };

/** A 1×1 PNG. */
export const PNG_BYTES: Uint8Array<ArrayBuffer> = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

/** Bytes that start like a JPEG (the viewer checks the signature, not the codec). */
export const JPEG_BYTES: Uint8Array<ArrayBuffer> = Uint8Array.from([
  0xff,
  0xd8,
  0xff,
  0xe0,
  ...utf8("not really a jpeg body"),
  0xff,
  0xd9,
]);

/** Appends events to the home's ledger as the supervisor would, then checkpoints. */
export async function seedLedger(t: TestHome, events: readonly EventFields[]): Promise<void> {
  const secrets = await t.keys.loadAgent("supervisor");
  const key = await SigningKey.fromSeed(secrets.seed);
  const ledger = await openLedger({
    path: ledgerPath(t.home),
    checkpointKey: key,
    origin: logOrigin(t.config.root_pin),
  });
  try {
    for (let i = 0; i < events.length; i += 1000) {
      ledger.append(events.slice(i, i + 1000).map((e) => encodeEvent(buildEvent(e))));
    }
    await ledger.checkpoint();
  } finally {
    ledger.close();
  }
}

/** Writes `output/<session>/index.html` and its images as deployment does; returns the image names. */
export async function plantArticle(
  t: TestHome,
  options: { session: string; title: string; bodyHtml: string; images?: Uint8Array[] },
): Promise<string[]> {
  const folder = join(t.home.output, options.session);
  await Deno.mkdir(join(folder, "img"), { recursive: true });
  const files: string[] = [];
  for (const bytes of options.images ?? []) {
    const png = bytes[0] === 0x89;
    const file = `${await sha256Hex(new Uint8Array(bytes))}.${png ? "png" : "jpg"}`;
    await Deno.writeFile(join(folder, "img", file), bytes);
    files.push(file);
  }
  const html = renderArticlePage({
    session: options.session,
    title: options.title,
    bodyHtml: options.bodyHtml,
    images: files.map((file) => ({ file, width: 1, height: 1 })),
  });
  await Deno.writeTextFile(join(folder, "index.html"), html);
  return files;
}

/**
 * `detail.files` as deployment reports it for what `output/<session>/` holds now:
 * the SHA-256 of `index.html` and of each file in `img/`.
 */
export async function outputFiles(t: TestHome, session: string): Promise<Record<string, string>> {
  const folder = join(t.home.output, session);
  const files: Record<string, string> = {
    "index.html": await sha256Hex(await Deno.readFile(join(folder, "index.html"))),
  };
  const images: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(folder, "img"))) {
      if (entry.isFile) images.push(entry.name);
    }
  } catch (err: unknown) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  for (const name of images.sort()) {
    files[`img/${name}`] = await sha256Hex(await Deno.readFile(join(folder, "img", name)));
  }
  return files;
}

/**
 * The `published` event deployment reports for the session's files as they are
 * on disk now (seed it with {@linkcode seedLedger}: the viewer serves nothing
 * under `output/` that no such event vouches for).
 */
export async function publishedEvent(
  t: TestHome,
  session: string,
  fields: Partial<EventFields> = {},
): Promise<EventFields> {
  const files = await outputFiles(t, session);
  return {
    type: "published",
    agent: "deployment",
    session_id: session,
    ...fields,
    detail: {
      path: `output/${session}/index.html`,
      images: Object.keys(files).filter((f) => f.startsWith("img/")).map((f) => f.slice(4)),
      files,
    },
  };
}

/** A running supervisor with the viewer, and the viewer's base URL. */
export interface ViewerPipeline extends AsyncDisposable {
  t: TestHome;
  sup: TestSupervisor;
  port: number;
  base: string;
}

/** Options for {@linkcode startViewerPipeline}. */
export interface ViewerPipelineOptions {
  /** Agents besides the viewer (default none). */
  agents?: string[];
  /** Runs on the fresh home before the supervisor starts (seed the ledger, plant pages). */
  prepare?(t: TestHome): Promise<void>;
}

/** Starts the supervisor on a fresh home running the viewer (and `agents`). */
export async function startViewerPipeline(
  options: ViewerPipelineOptions = {},
): Promise<ViewerPipeline> {
  const t = await makeTestHome({ agents: [...options.agents ?? [], "viewer"] });
  let sup: TestSupervisor | undefined;
  try {
    await options.prepare?.(t);
    sup = await startTestSupervisor(t);
    await waitUntilUp(sup.supervisor, "viewer");
    // the system assigned the viewer's port; the supervisor knows it from the ready line
    const base = sup.supervisor.viewerUrl;
    if (base === undefined) throw new Error("The viewer reported no address");
    const port = Number(new URL(base).port);
    const started = sup;
    return {
      t,
      sup: started,
      port,
      base,
      async [Symbol.asyncDispose]() {
        try {
          await started[Symbol.asyncDispose]();
        } finally {
          await t[Symbol.asyncDispose]();
        }
      },
    };
  } catch (err: unknown) {
    await sup?.[Symbol.asyncDispose]();
    await t[Symbol.asyncDispose]();
    throw err;
  }
}

/** A fetched response with its body read. */
export interface Fetched {
  status: number;
  headers: Headers;
  text: string;
  bytes: Uint8Array;
}

/** Fetches `path` from the viewer (no redirects followed). */
export async function get(base: string, path: string, init: RequestInit = {}): Promise<Fetched> {
  const res = await fetch(`${base}${path}`, { redirect: "manual", ...init });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, text: new TextDecoder().decode(bytes), bytes };
}

/** Sends one raw HTTP/1.1 request and returns the status line and the whole answer. */
export async function rawRequest(
  port: number,
  target: string,
  host = `127.0.0.1:${port}`,
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(utf8(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(
      Uint8Array.from(chunks.flatMap((c) => [...c])),
    );
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? "0");
    return { status, text };
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the server
    }
  }
}

/** Asserts every security header of docs/design.md section 8 on a response. */
export function assertSecurityHeaders(headers: Headers, what: string): void {
  const csp = headers.get("content-security-policy") ?? "";
  assert.ok(csp.startsWith(VIEWER_CSP), `${what}: CSP is ${JSON.stringify(csp)}`);
  assert.equal(headers.get("x-frame-options"), "DENY", `${what}: X-Frame-Options`);
  assert.equal(headers.get("x-content-type-options"), "nosniff", `${what}: nosniff`);
  assert.equal(headers.get("referrer-policy"), "no-referrer", `${what}: Referrer-Policy`);
  assert.equal(headers.get("cache-control"), "no-store", `${what}: Cache-Control`);
}

/** Waits until the viewer answers with a ledger head of at least `size` records. */
export function waitForLedgerSize(base: string, size: number): Promise<number> {
  return waitFor(async () => {
    const page = await get(base, "/ledger");
    const n = Number(/<dd id="ledger-size">(\d+)</.exec(page.text)?.[1] ?? "0");
    return n >= size && n;
  }, { what: `the viewer to see ${size} records` });
}

/** The session ids of audit rows, in page order. */
export function rowSeqs(html: string): number[] {
  return [...html.matchAll(/<tr class="event [^"]*" data-seq="(\d+)"/g)].map((m) => Number(m[1]));
}
