/**
 * The viewer's binding of `output/` to the ledger, on real files in a temp
 * home: what the guard serves, lists, refuses and reports, with the ledger
 * index replaced by a map the test fills and the grace period's timer by fake
 * timers the test ticks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import FakeTimers from "@sinonjs/fake-timers";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { isSaoeError } from "../../core/primitives/errors.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type HomeLayout, homeLayout } from "../../core/domain/home/layout.ts";
import { renderArticlePage } from "../../core/services/deployment/page.ts";
import type { OutputFinding } from "../../core/services/deployment/published_files.ts";
import {
  DEFAULT_REPORT_GRACE_MS,
  outputFindingEvent,
  OutputGuard,
} from "../../core/services/viewer/output_guard.ts";
import { waitFor } from "../_support/wait.ts";

/** A 1×1 PNG. */
const PNG_BYTES: Uint8Array<ArrayBuffer> = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

interface Setup extends AsyncDisposable {
  home: HomeLayout;
  guard: OutputGuard;
  vouched: Map<string, ReadonlyMap<string, string>>;
  reports: OutputFinding[];
  catchUps: () => number;
  timers: ReturnType<typeof FakeTimers.createClock>;
}

async function setup(): Promise<Setup> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-guard-" }));
  const home = homeLayout(root);
  await Deno.mkdir(home.output);
  const vouched = new Map<string, ReadonlyMap<string, string>>();
  const reports: OutputFinding[] = [];
  let catchUps = 0;
  const timers = FakeTimers.createClock();
  const guard = new OutputGuard({
    home,
    vouched: (session) => vouched.get(session),
    catchUp: () => {
      catchUps++;
      return Promise.resolve();
    },
    report: (finding) => {
      reports.push(finding);
      return Promise.resolve();
    },
    clock: systemClock,
    timers,
    log: () => {},
  });
  return {
    home,
    guard,
    vouched,
    reports,
    catchUps: () => catchUps,
    timers,
    async [Symbol.asyncDispose]() {
      guard.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Writes a page (and a PNG) as deployment does; returns what its published event names. */
async function publish(
  home: HomeLayout,
  session: string,
  title = "T",
): Promise<Map<string, string>> {
  const folder = join(home.output, session);
  await Deno.mkdir(join(folder, "img"), { recursive: true });
  const image = `${await sha256Hex(PNG_BYTES)}.png`;
  await Deno.writeFile(join(folder, "img", image), PNG_BYTES);
  const page = new TextEncoder().encode(renderArticlePage({
    session,
    title,
    bodyHtml: "<p>x</p>",
    images: [{ file: image, width: 1, height: 1 }],
  }));
  await Deno.writeFile(join(folder, "index.html"), page);
  return new Map([["index.html", await sha256Hex(page)], [
    `img/${image}`,
    await sha256Hex(
      PNG_BYTES,
    ),
  ]]);
}

const notFound = (e: unknown) => isSaoeError(e, "not_found");

Deno.test("OutputGuard serves a page and an image only while their bytes hash to the published event", async () => {
  await using s = await setup();
  const session = crypto.randomUUID();
  const files = await publish(s.home, session);
  s.vouched.set(session, files);
  const image = [...files.keys()][1]!.slice("img/".length);
  assert.equal((await s.guard.page(session)).check.ok, true);
  assert.deepEqual((await s.guard.image(session, image)).bytes, PNG_BYTES);
  assert.equal(s.catchUps(), 0, "a vouched session needs no extra ledger read");

  const forged = Uint8Array.from([...PNG_BYTES, 0]);
  await Deno.writeFile(join(s.home.output, session, "img", image), forged);
  await assert.rejects(s.guard.image(session, image), notFound);
  await assert.rejects(s.guard.image(session, image), notFound);
  assert.deepEqual(s.reports, [{
    session,
    file: `output/${session}/img/${image}`,
    problem: "mismatch",
    sha256: await sha256Hex(forged),
    expected: files.get(`img/${image}`),
  }], "two requests, one report");

  // another state of the file is reported again
  await Deno.writeFile(join(s.home.output, session, "img", image), Uint8Array.from([...forged, 1]));
  await assert.rejects(s.guard.image(session, image), notFound);
  assert.equal(s.reports.length, 2);

  await Deno.writeTextFile(join(s.home.output, session, "index.html"), "<!doctype html><p>x</p>");
  await assert.rejects(s.guard.page(session), notFound);
  assert.equal(s.reports.at(-1)?.problem, "mismatch");
  assert.deepEqual(await s.guard.list(), [], "a replaced page is not listed");
  assert.equal(s.reports.length, 3, "listing it does not report it again");
});

Deno.test("OutputGuard refuses an image its published event does not name and reports it at once", async () => {
  await using s = await setup();
  const session = crypto.randomUUID();
  s.vouched.set(session, await publish(s.home, session));
  const extra = `${"a".repeat(64)}.png`;
  await Deno.writeFile(join(s.home.output, session, "img", extra), PNG_BYTES);
  await assert.rejects(s.guard.image(session, extra), notFound);
  await assert.rejects(s.guard.image(session, extra), notFound);
  assert.deepEqual(s.reports, [{
    session,
    file: `output/${session}/img/${extra}`,
    problem: "unlisted",
    sha256: await sha256Hex(PNG_BYTES),
  }]);
  // a name that is not there is a plain 404, nothing to report
  await assert.rejects(s.guard.image(session, `${"b".repeat(64)}.png`), notFound);
  assert.equal(s.reports.length, 1);
});

Deno.test("OutputGuard refuses a session no published event vouches for, reads the ledger again first, and reports it once after the grace period", async () => {
  await using s = await setup();
  const planted = crypto.randomUUID();
  const files = await publish(s.home, planted, "planted");
  await assert.rejects(s.guard.page(planted), notFound);
  await assert.rejects(s.guard.page(planted), notFound);
  assert.ok(s.catchUps() >= 2, "the ledger is read again before each refusal");
  assert.deepEqual(await s.guard.list(), [], "a planted session is not listed");
  assert.deepEqual(s.reports, [], "not while deployment may still be about to report it");
  await s.timers.tickAsync(DEFAULT_REPORT_GRACE_MS);
  // the check then reads the file (real I/O, not the fake timers)
  await waitFor(() => s.reports.length > 0, 5_000, "the report of the planted page");
  assert.deepEqual(s.reports, [{
    session: planted,
    file: `output/${planted}/index.html`,
    problem: "unpublished",
    sha256: files.get("index.html"),
  }]);
  await assert.rejects(s.guard.page(planted), notFound);
  assert.equal(s.timers.countTimers(), 0, "no second check is scheduled");
  assert.equal(s.reports.length, 1, "reported once");
  assert.deepEqual(outputFindingEvent(s.reports[0]!).reason, "output_mismatch");
});

Deno.test("OutputGuard serves a session published within the grace period and reports nothing", async () => {
  await using s = await setup();
  const session = crypto.randomUUID();
  const files = await publish(s.home, session);
  await assert.rejects(s.guard.page(session), notFound);
  // deployment's published event reaches the ledger
  s.vouched.set(session, files);
  await s.timers.tickAsync(DEFAULT_REPORT_GRACE_MS);
  assert.equal((await s.guard.page(session)).check.ok, true);
  assert.deepEqual((await s.guard.list()).map((e) => e.session), [session]);
  assert.deepEqual(s.reports, []);
});
