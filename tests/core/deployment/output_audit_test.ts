/**
 * The check behind `saoe audit verify --outputs` on real files in a temp home:
 * every kind of finding, and what a ledger's `published` events vouch for.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex, utf8 } from "../../../core/primitives/crypto/bytes.ts";
import { homeLayout } from "../../../core/domain/home/layout.ts";
import { buildEvent, encodeEvent, type EventFields } from "../../../core/domain/ledger/events.ts";
import { auditOutputs, readPublished } from "../../../core/services/deployment/output_audit.ts";
import { publishedFilesOf } from "../../../core/services/deployment/published_files.ts";

const A = "0f8fad5b-d9cb-469f-a165-70867728950e";
const B = "1c6b1d3e-5a2f-4c7e-9b1d-2f3e4a5b6c7d";
const C = "2d7c2e4f-6b3a-4d8f-8c2e-3a4b5c6d7e8f";

function ledgerOf(events: EventFields[]) {
  const records = events.map((e, i) => ({ seq: i + 1, bytes: encodeEvent(buildEvent(e)) }));
  return {
    read: ({ afterSeq, limit }: { afterSeq: number; limit: number }) =>
      records.filter((r) => r.seq > afterSeq).slice(0, limit),
  };
}

Deno.test("readPublished() keeps each session's first published event by deployment that names files", () => {
  const files = (page: string) => ({ files: { "index.html": page.repeat(64) } });
  const published = readPublished(ledgerOf([
    { type: "published", agent: "deployment", session_id: A, detail: { path: "x", images: [] } },
    { type: "published", agent: "viewer", session_id: B, detail: files("b") },
    { type: "published", agent: "deployment", session_id: A, detail: files("a") },
    { type: "published", agent: "deployment", session_id: A, detail: files("c") },
    { type: "validated", agent: "deployment", session_id: C, detail: files("d") },
  ]));
  assert.deepEqual([...published.keys()], [A]);
  assert.equal(published.get(A)?.get("index.html"), "a".repeat(64));
});

Deno.test("publishedFilesOf() refuses a files detail with an unknown name, a bad digest or no page", () => {
  const event = (files: unknown) =>
    publishedFilesOf(
      buildEvent({
        type: "published",
        agent: "deployment",
        session_id: A,
        detail: { files } as never,
      }),
    );
  const hex = "ab".repeat(32);
  assert.ok(event({ "index.html": hex, [`img/${hex}.png`]: hex }) !== undefined);
  assert.equal(event({ "index.html": hex, "../config.json": hex }), undefined);
  assert.equal(event({ "index.html": "AB".repeat(32) }), undefined);
  assert.equal(event({ [`img/${hex}.png`]: hex }), undefined);
  assert.equal(event([hex]), undefined);
});

Deno.test("auditOutputs() names every mismatched, missing, unlisted, unsafe and unpublished file", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-outputs-" }));
  try {
    const home = homeLayout(root);
    const page = utf8("<!doctype html><p>page</p>");
    const image = utf8("image bytes");
    const imageName = `${await sha256Hex(image)}.png`;
    for (const s of [A, B]) {
      await Deno.mkdir(join(home.output, s, "img"), { recursive: true });
      await Deno.writeFile(join(home.output, s, "index.html"), page);
      await Deno.writeFile(join(home.output, s, "img", imageName), image);
    }
    const files = new Map([
      ["index.html", await sha256Hex(page)],
      [`img/${imageName}`, await sha256Hex(image)],
    ]);
    const clean = await auditOutputs({
      home,
      published: () => Promise.resolve(new Map([[A, files], [B, files]])),
    });
    assert.deepEqual(clean, { ok: true, published: 2, checked: 4, findings: [] });

    // B: page replaced, an extra image, a stray file, a temp file (skipped); C: planted;
    // D: published, its folder gone; A's image is a symlink now
    await Deno.writeTextFile(join(home.output, B, "index.html"), "replaced");
    const extra = `${"e".repeat(64)}.jpg`;
    await Deno.writeFile(join(home.output, B, "img", extra), image);
    await Deno.writeTextFile(join(home.output, B, "notes.txt"), "x");
    await Deno.writeTextFile(join(home.output, B, ".tmp-123"), "x");
    await Deno.mkdir(join(home.output, C));
    await Deno.writeTextFile(join(home.output, C, "index.html"), "planted");
    await Deno.remove(join(home.output, A, "img", imageName));
    await Deno.symlink(join(root, "elsewhere"), join(home.output, A, "img", imageName));
    const D = crypto.randomUUID();
    const audit = await auditOutputs({
      home,
      published: () => Promise.resolve(new Map([[A, files], [B, files], [D, files]])),
    });
    assert.equal(audit.ok, false);
    assert.deepEqual(
      audit.findings.map((f) => [f.file, f.problem]),
      [
        [`output/${A}/img/${imageName}`, "unsafe"],
        [`output/${B}/img/${extra}`, "unlisted"],
        [`output/${B}/index.html`, "mismatch"],
        [`output/${B}/notes.txt`, "unlisted"],
        [`output/${C}/`, "unpublished"],
        [`output/${D}/img/${imageName}`, "missing"],
        [`output/${D}/index.html`, "missing"],
      ].sort(([a], [b]) => a! < b! ? -1 : 1),
    );
    const mismatch = audit.findings.find((f) => f.problem === "mismatch")!;
    assert.equal(mismatch.sha256, await sha256Hex(utf8("replaced")));
    assert.equal(mismatch.expected, files.get("index.html"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
