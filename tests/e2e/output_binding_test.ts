/**
 * Outputs bound to the ledger, end to end through real processes: `saoe
 * pipeline` publishes an article with an image and a text-only one; then
 * someone with write access to the home plants `output/<new uuid>/index.html`,
 * replaces the text article's page and replaces the image. The viewer answers
 * 404 for each (never their bytes), lists neither the planted session nor the
 * replaced page, reports each file once in the ledger however often it is
 * asked for, and still serves the genuine article; `saoe audit verify
 * --outputs` passes on the untouched home and names every tampered file after.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import { renderArticlePage } from "../../core/services/deployment/page.ts";
import { sampleJpeg } from "../../scripts/demo/sample_image.ts";
import {
  ledgerEvents,
  makeTestHome,
  runSaoe,
  startCliPipeline,
  waitFor,
  waitForEvent,
} from "../supervisor/_harness.ts";
import { intakeUrl, submit } from "./_e2e.ts";

const MARKER = "zq9plantedmarker";

/** Answer of `saoe audit verify --outputs --json`. */
interface VerifyOutputs {
  ok: boolean;
  outputs: {
    ok: boolean;
    published: number;
    findings: { reason: string; problem: string; file: string; sha256?: string }[];
  };
}

async function verifyOutputs(root: string): Promise<{ code: number; result: VerifyOutputs }> {
  const out = await runSaoe(["audit", "verify", "--outputs", "--home", root, "--json"]);
  try {
    return { code: out.code, result: JSON.parse(out.stdout) };
  } catch {
    throw new Error(`saoe audit verify printed no JSON (exit ${out.code}):\n${out.stderr}`);
  }
}

function refusalsOf(events: readonly AuditEvent[], file: string): AuditEvent[] {
  return events.filter((e) =>
    e.type === "rejected" && e.agent === "viewer" && e.reason === "output_mismatch" &&
    e.detail?.file === file
  );
}

Deno.test({
  name:
    "a planted page, a replaced page and a replaced image are refused by the viewer, reported once each and named by saoe audit verify --outputs",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    const work = await Deno.makeTempDir({ prefix: "saoe-e2e-" });
    try {
      await using pipeline = await startCliPipeline(t);
      const url = await intakeUrl(pipeline);
      const viewer = String(
        (await pipeline.waitForLine((l) => l.kind === "viewer", "the viewer line")).url,
      );
      const photo = join(work, "photo.jpg");
      await Deno.writeFile(photo, sampleJpeg(320, 240));
      const withImage = await submit(t.root, url, [
        "--title",
        "Genuine",
        "--markdown",
        "A photo follows.",
        "--image",
        photo,
        "--wait",
      ]);
      assert.equal(withImage.code, 0, withImage.stderr);
      const text = await submit(t.root, url, [
        "--title",
        "Text only",
        "--markdown",
        "No image here.",
        "--wait",
      ]);
      assert.equal(text.code, 0, text.stderr);
      const session = withImage.result.session_id;
      const textSession = text.result.session_id;
      const folder = join(t.home.output, session);
      const [image] = [...Deno.readDirSync(join(folder, "img"))].map((e) => e.name);
      assert.ok(image !== undefined);

      // the published event carries the SHA-256 of exactly the bytes written
      const published = (await ledgerEvents(t.home)).find((e) =>
        e.type === "published" && e.session_id === session
      );
      assert.deepEqual(published?.detail?.files, {
        "index.html": await sha256Hex(await Deno.readFile(join(folder, "index.html"))),
        [`img/${image}`]: await sha256Hex(await Deno.readFile(join(folder, "img", image))),
      });

      const clean = await verifyOutputs(t.root);
      assert.equal(clean.code, 0, JSON.stringify(clean.result));
      assert.equal(clean.result.ok, true);
      assert.deepEqual(clean.result.outputs.findings, []);
      assert.equal(clean.result.outputs.published, 2);
      const genuinePage = await fetch(`${viewer}/output/${session}/`);
      assert.equal(genuinePage.status, 200, await genuinePage.text());

      // someone with write access to the home: a planted session, a replaced page and image
      const planted = crypto.randomUUID();
      await Deno.mkdir(join(t.home.output, planted));
      await Deno.writeTextFile(
        join(t.home.output, planted, "index.html"),
        renderArticlePage({
          session: planted,
          title: MARKER,
          bodyHtml: `<p>${MARKER}</p>`,
          images: [],
        }),
      );
      await Deno.writeTextFile(
        join(t.home.output, textSession, "index.html"),
        renderArticlePage({
          session: textSession,
          title: MARKER,
          bodyHtml: `<p>${MARKER}</p>`,
          images: [],
        }),
      );
      const forged = sampleJpeg(64, 48);
      await Deno.writeFile(join(folder, "img", image), forged);
      const files = {
        planted: `output/${planted}/index.html`,
        page: `output/${textSession}/index.html`,
        image: `output/${session}/img/${image}`,
      };
      const paths = {
        planted: `/output/${planted}/`,
        page: `/output/${textSession}/`,
        image: `/output/img/${session}/${image}`,
      };

      for (const path of Object.values(paths)) {
        for (let i = 0; i < 2; i++) {
          const res = await fetch(`${viewer}${path}`);
          const body = new Uint8Array(await res.arrayBuffer());
          assert.equal(res.status, 404, `${path} (request ${i + 1})`);
          assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
          const shown = new TextDecoder().decode(body);
          assert.ok(!shown.includes(MARKER), `${path} served the planted bytes`);
          assert.match(shown, /There is no such article or image\./);
        }
      }
      const list = await (await fetch(`${viewer}/articles`)).text();
      assert.ok(!list.includes(planted), "the planted session is not listed");
      assert.ok(!list.includes(textSession), "the replaced page is not listed");
      assert.ok(!list.includes(MARKER));
      assert.ok(list.includes(`data-session="${session}"`), "the genuine article is listed");
      const genuine = await fetch(`${viewer}/output/${session}/`);
      assert.equal(genuine.status, 200);
      assert.match(await genuine.text(), /<title>Genuine<\/title>/);

      // each is reported; the planted page once its grace period is over (deployment might
      // have been about to vouch for it)
      const all = await waitFor(async () => {
        const events = await ledgerEvents(t.home);
        return Object.values(files).every((f) => refusalsOf(events, f).length > 0) && events;
      }, { what: "a report of each tampered file", timeoutMs: 20_000 });
      const plantedEvent = refusalsOf(all, files.planted)[0]!;
      assert.equal(plantedEvent.session_id, planted);
      assert.equal(plantedEvent.detail?.problem, "unpublished");
      const pageEvent = refusalsOf(all, files.page)[0]!;
      assert.equal(pageEvent.detail?.problem, "mismatch");
      assert.equal(
        pageEvent.detail?.sha256,
        await sha256Hex(await Deno.readFile(join(t.home.output, textSession, "index.html"))),
      );
      assert.equal(refusalsOf(all, files.image)[0]!.detail?.sha256, await sha256Hex(forged));

      // asked for again: no new report; a new tampering after them is the barrier
      for (const path of Object.values(paths)) {
        assert.equal((await fetch(`${viewer}${path}`)).status, 404);
      }
      const extraBytes = sampleJpeg(32, 24);
      const extra = `${await sha256Hex(extraBytes)}.jpg`;
      await Deno.writeFile(join(folder, "img", extra), extraBytes);
      const extraRes = await fetch(`${viewer}/output/img/${session}/${extra}`);
      await extraRes.body?.cancel();
      assert.equal(extraRes.status, 404);
      const extraFile = `output/${session}/img/${extra}`;
      const after = await waitForEvent(
        t.home,
        (e) => refusalsOf([e], extraFile).length > 0,
        "the report of the extra image",
      );
      for (const file of Object.values(files)) {
        assert.equal(refusalsOf(after, file).length, 1, `${file} reported once`);
      }

      const tampered = await verifyOutputs(t.root);
      assert.equal(tampered.code, 1);
      assert.equal(tampered.result.ok, false);
      const found = new Map(tampered.result.outputs.findings.map((f) => [f.file, f]));
      assert.equal(found.get(`output/${planted}/`)?.problem, "unpublished");
      assert.equal(found.get(files.page)?.problem, "mismatch");
      assert.equal(found.get(files.image)?.problem, "mismatch");
      assert.equal(found.get(extraFile)?.problem, "unlisted");
      assert.ok(tampered.result.outputs.findings.every((f) => f.reason === "output_mismatch"));
      assert.equal(tampered.result.outputs.findings.length, 4);
      const textOut = await runSaoe(["audit", "verify", "--outputs", "--home", t.root]);
      assert.equal(textOut.code, 1);
      for (const file of [`output/${planted}/`, files.page, files.image]) {
        assert.ok(textOut.stderr.includes(file), `the text output names ${file}`);
      }
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
